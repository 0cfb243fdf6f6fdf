import { readInputs } from '../../src/inputs'

const read = (values: Record<string, string>) => readInputs((name) => values[name] ?? '')
const refusal = (values: Record<string, string>): string => {
  try {
    read(values)
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('expected the input to be refused')
}

describe("the command input read as Kamal's argv", () => {
  test('quoted command lines stay one word; options anywhere, folded into the inputs', () => {
    expect(read({ command: 'app exec --reuse --roles=web "bin/rails db:migrate"' })).toMatchObject({ command: 'app', subcommand: 'exec', options: { reuse: true }, roles: ['web'], commandLine: 'bin/rails db:migrate' })
    expect(read({ command: "server exec -h 10.0.0.1,10.0.0.2 'uptime && df -h'" })).toMatchObject({ hosts: ['10.0.0.1', '10.0.0.2'], commandLine: 'uptime && df -h' })
    expect(read({ command: 'app exec -p bin/rails db:migrate' })).toMatchObject({ primary: true, commandLine: 'bin/rails db:migrate' })
  })

  test("an unknown switch after the command's first word belongs to the command, as Thor passes it on", () => {
    expect(read({ command: 'app exec ls -la /tmp' }).commandLine).toBe('ls -la /tmp')
    expect(read({ command: 'app exec -- --version' }).commandLine).toBe('--version')
  })

  test('a new-container exec and app boot run the latest tag unless a version is given; --reuse finds it at run time', () => {
    expect(read({ command: 'app exec uname' }).version).toBe('latest')
    expect(read({ command: 'app exec uname', destination: 'staging' }).version).toBe('latest-staging')
    expect(read({ command: 'app boot' }).version).toBe('latest')
    expect(read({ command: 'app exec --version=abc123 uname' }).version).toBe('abc123')
    expect(read({ command: 'app exec uname', version: 'v7' }).version).toBe('v7')
    expect(read({ command: 'app exec --reuse uname' }).version).toBeUndefined()
    expect(read({ command: 'deploy' }).version).toBeUndefined()
  })

  test('log options with values, numbers checked', () => {
    expect(read({ command: 'app logs -n 50 --grep=ERROR --since 10m -T' }).options).toEqual({ lines: 50, grep: 'ERROR', since: '10m', skipTimestamps: true })
    expect(read({ command: 'accessory logs db --lines=5' })).toMatchObject({ argument: 'db', options: { lines: 5 } })
    expect(refusal({ command: 'app logs -n many' })).toBe("Input 'command': 'app logs -n many': -n takes a whole number, not 'many'.")
    expect(refusal({ command: 'app logs --grep' })).toContain('--grep needs a value')
  })

  test('lock acquire needs its message; remove and proxy reboot take -y as the confirm input', () => {
    expect(read({ command: 'lock acquire -m "Database maintenance"' }).options).toEqual({ message: 'Database maintenance' })
    expect(refusal({ command: 'lock acquire' })).toContain('needs a lock message, e.g. command: lock acquire -m')
    expect(read({ command: 'remove -y' }).confirm).toBe(true)
    expect(read({ command: 'remove', confirm: 'true' }).confirm).toBe(true)
    expect(read({ command: 'remove' }).confirm).toBe(false)
    expect(read({ command: 'proxy reboot --rolling -y' })).toMatchObject({ confirm: true, options: { rolling: true, confirmed: true } })
  })

  test.each([
    ['app exec -i bash', "-i needs a terminal, and a workflow step has none"],
    ['app exec --interactive --reuse bash', '--interactive needs a terminal'],
    ['app logs -f', '-f follows the log until interrupted'],
    ['app exec', 'No command provided. You must specify a command to execute'],
    ['app exec --detach --reuse x', 'Detach is not compatible with reuse'],
    ['app details --quiet', '--quiet is not an option of kamal app details as this action runs it. Options it takes: --roles, --hosts, --version, --primary.'],
    ['app exec -d staging x', "-d is this action's 'destination' input"],
    ['app exec "unclosed', 'cannot be split into words'],
    ['remove --rolling', '--rolling is not an option of kamal remove'],
    ['app version extra', 'has extra words'],
    ['app exec --reuse=yes x', '--reuse is a switch and takes no value'],
  ])('%j is refused, naming the input and the fix', (command, message) => {
    const text = refusal({ command })
    expect(text.startsWith("Input 'command': ")).toBe(true)
    expect(text).toContain(message)
  })

  test('an option and the input that does the same must agree', () => {
    expect(refusal({ command: 'app details --roles=web', roles: 'workers' })).toBe("Input 'roles': 'workers' and the command's --roles=web disagree. Give it once: in the command or as the roles input.")
    expect(read({ command: 'app details --roles=web', roles: 'web' }).roles).toEqual(['web'])
    expect(refusal({ command: 'app exec --version=a x', version: 'b' })).toContain("Input 'version': 'b' and the command's --version=a disagree")
  })
})
