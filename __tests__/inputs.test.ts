import { ConfigError, InputError } from '../src/errors'
import { configAliases } from '../src/config/aliases'
import { expandAlias, readInputs, resolveAlias, type ActionInputs } from '../src/inputs'
import { configFromYaml } from './support/config'

const reader = (values: Record<string, string>) => (name: string) => values[name] ?? ''

describe('the command input, read like the kamal CLI', () => {
  test.each([
    ['', { command: 'deploy' }],
    ['redeploy', { command: 'redeploy' }],
    ['setup', { command: 'setup' }],
    ['lock release', { command: 'lock', subcommand: 'release' }],
    ['lock   status', { command: 'lock', subcommand: 'status' }],
    ['app maintenance', { command: 'app', subcommand: 'maintenance' }],
    ['accessory boot redis', { command: 'accessory', subcommand: 'boot', argument: 'redis' }],
    ['accessory remove all', { command: 'accessory', subcommand: 'remove', argument: 'all' }],
  ])('%j', (command, expected) => {
    expect(readInputs(reader({ command }))).toMatchObject(expected)
  })

  test.each([
    ['Destroy!', "'Destroy!' is not a command of this action"],
    ['lock', "'lock' needs one of release, status, acquire after lock, e.g. command: lock release."],
    ['app restart', "'app restart' needs one of maintenance, live, exec, boot, start, stop, remove, logs, details, containers, version after app"],
    ['accessory boot', "'accessory boot' needs the accessory's name or all, e.g. command: accessory boot all."],
    ['deploy now', "'deploy now' has extra words"],
    ['rollback', 'rollback needs the version to return to'],
  ])('%j is refused, naming the input and the expected form', (command, message) => {
    expect(() => readInputs(reader({ command }))).toThrow(`Input '${command === 'rollback' ? 'version' : 'command'}': `)
    expect(() => readInputs(reader({ command }))).toThrow(message)
  })

  test('booleans and lists', () => {
    const inputs = readInputs(reader({ 'skip-push': 'true', deployment: 'false', roles: 'web, workers\njobs', hosts: '' }))
    expect(inputs).toMatchObject({ skipPush: true, deployment: false, roles: ['web', 'workers', 'jobs'], hosts: [] })
    expect(() => readInputs(reader({ 'skip-push': 'yes' }))).toThrow("Input 'skip-push': 'yes' is not a boolean. Use true or false.")
  })
})

describe('aliases (Kamal::Cli::Alias::Command)', () => {
  const CONFIG = `service: app
image: dhh/app
registry: { username: dhh, password: secret }
builder: { arch: amd64 }
servers: [1.1.1.1]
aliases:
  console: app exec -i --reuse "bin/rails console"
  ship: deploy
  maint: app maintenance
  boot-db: accessory boot
  webs: deploy -r web
  back: rollback
`
  const aliases = configAliases(configFromYaml(CONFIG))
  const read = (command: string, extra: Record<string, string> = {}) => readInputs(reader({ command, ...extra }))
  const failure = (run: () => unknown): Error => {
    try {
      run()
    } catch (error) {
      return error as Error
    }
    throw new Error('expected a failure')
  }

  test("expandAlias splits the alias as Shellwords.split does and appends the input's other words", () => {
    const table = Object.fromEntries(Object.entries(aliases).map(([name, { command }]) => [name, command]))
    expect(expandAlias('console', table)).toEqual(['app', 'exec', '-i', '--reuse', 'bin/rails console'])
    expect(expandAlias('boot-db mysql', table)).toEqual(['accessory', 'boot', 'mysql'])
    expect(expandAlias('deploy', table)).toBeUndefined()
  })

  test('an input that may be an alias waits for the config', () => {
    expect(read('ship').alias).toEqual({ name: 'ship', extraWords: [] })
    expect(read('deploy').alias).toBeUndefined()
  })

  test.each([
    ['ship', { command: 'deploy', subcommand: undefined, argument: undefined }],
    ['maint', { command: 'app', subcommand: 'maintenance' }],
    ['boot-db mysql', { command: 'accessory', subcommand: 'boot', argument: 'mysql' }],
  ])('%j runs the command it stands for', (command, expected) => {
    const resolved: ActionInputs = resolveAlias(read(command), aliases)
    expect(resolved).toMatchObject({ ...expected, alias: undefined })
  })

  test('inputs without an alias come back unchanged', () => {
    const inputs = read('redeploy')
    expect(resolveAlias(inputs, aliases)).toBe(inputs)
  })

  test("an alias of a command the action cannot run is refused at the alias' line, naming the input", () => {
    const error = failure(() => resolveAlias(read('console'), aliases))
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.message).toBe(
      "Input 'command': 'console' is the alias at config/deploy.yml:7 for 'app exec -i --reuse \"bin/rails console\"', which passes -i, an option this action has no equivalent for. Drop it from the alias.",
    )
    expect((error as ConfigError).location).toMatchObject({ file: 'config/deploy.yml', line: 7 })
  })

  test('an alias without options that is still no command of the action says why', () => {
    const table = configAliases(configFromYaml(CONFIG.replace('ship: deploy', 'ship: app restart')))
    expect(failure(() => resolveAlias(read('ship'), table)).message).toMatch(
      /^Input 'command': 'ship' is the alias at config\/deploy\.yml:8 for 'app restart', which this action cannot run: 'app restart' \(alias ship at config\/deploy\.yml:8\) needs one of maintenance, live, exec/,
    )
  })

  test('an alias to app exec with its own options runs that command line', () => {
    const table = configAliases(configFromYaml(CONFIG.replace('ship: deploy', 'ship: app exec --reuse "bin/rails db:migrate"')))
    expect(resolveAlias(read('ship'), table)).toMatchObject({ command: 'app', subcommand: 'exec', options: { reuse: true }, commandLine: 'bin/rails db:migrate', version: undefined })
  })

  test('a Kamal option in the alias points at the input that does the same', () => {
    expect(failure(() => resolveAlias(read('webs'), aliases)).message).toContain("which passes -r: this action takes that as the 'roles' input. Drop it from the alias and set roles in the step's with:.")
  })

  test('an alias to rollback still needs the version input', () => {
    expect(failure(() => resolveAlias(read('back'), aliases))).toBeInstanceOf(InputError)
    expect(resolveAlias(read('back', { version: 'abc123' }), aliases)).toMatchObject({ command: 'rollback', version: 'abc123' })
  })

  test('an unknown name is refused with the aliases there are', () => {
    const error = failure(() => resolveAlias(read('destroy'), aliases))
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toBe("Input 'command': 'destroy' is not a command of this action nor one of the config's aliases (console, ship, maint, boot-db, webs, back). Use one of: deploy, redeploy, rollback, setup, plan, prune, remove, audit, build push, lock release|status|acquire, app exec|boot|start|stop|remove|logs|details|containers|version|maintenance|live, proxy boot|reboot, server exec, accessory boot|reboot|remove|logs|details|exec <name|all>.")
    expect(failure(() => resolveAlias(read('destroy'), {})).message).toContain('and the config defines no aliases')
  })
})
