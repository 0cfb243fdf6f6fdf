import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ConfigError } from '../src/errors'
import { sshOptionsFor } from '../src/deploy/ssh-options'
import type { ActionInputs } from '../src/inputs'
import { openSshSettingsFor, variablesToSend } from '../src/remote/openssh-config'
import { uploadCommand } from '../src/remote/ssh-connection'
import { loadSecrets } from '../src/secrets/load'
import { configFromYaml } from './support/config'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssh-config-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): string {
  const full = path.join(dir, name)
  fs.writeFileSync(full, text)
  return full
}

describe('OpenSSH config files, read as Net::SSH::Config reads them', () => {
  test('first value wins, IdentityFile accumulates, blocks beat directives before any Host, HostName %h', () => {
    const config = file(
      'a',
      ['Port 2000', 'IdentityFile ~/.ssh/global', '', 'Host web-*  !web-9', '  HostName %h.internal', '  User deploy', '  IdentityFile ~/.ssh/web', 'Host *', '  HostName other', '  Port 3000', '  IdentityFile ~/.ssh/any', ''].join('\n'),
    )
    const settings = openSshSettingsFor('web-1', [config])
    expect(settings.hostName).toEqual({ value: 'web-1.internal', location: { file: config, line: 5, column: 3 } })
    expect(settings.user?.value).toBe('deploy')
    expect(settings.port?.value).toBe(3000)
    expect(settings.identityFiles.map((entry) => entry.value)).toEqual(['~/.ssh/global', '~/.ssh/web', '~/.ssh/any'])
    expect(openSshSettingsFor('web-9', [config]).hostName?.value).toBe('other')
  })

  test('each host walks the file for itself, and a file read again with other text gives the new answer', () => {
    const config = file('per-host', 'Host one\n  User first\nHost two\n  User second\n')
    expect(['one', 'two', 'one'].map((host) => openSshSettingsFor(host, [config]).user?.value)).toEqual(['first', 'second', 'first'])
    fs.writeFileSync(config, 'Host one\n  User changed\n')
    expect(openSshSettingsFor('one', [config]).user?.value).toBe('changed')
    expect(openSshSettingsFor('two', [config]).user).toBeUndefined()
  })

  test('Match: only host/all criteria count; earlier files win; ProxyJump and ProxyCommand share one slot', () => {
    const first = file('b1', 'Match host db exec "false"\n  ProxyCommand nc %h %p\nHost db\n  ProxyJump gw1\n  ProxyCommand ignored\n')
    const second = file('b2', 'Host db\n  ProxyCommand later\n  HostName 10.1.1.1\n')
    const settings = openSshSettingsFor('db', [first, second, path.join(dir, 'missing')])
    expect(settings.proxy?.value).toEqual({ kind: 'command', template: 'nc %h %p' })
    expect(settings.hostName?.value).toBe('10.1.1.1')
    expect(openSshSettingsFor('DB', [file('b3', 'Match exec true\n  HostName x\n')]).hostName).toBeUndefined()
  })

  test('SendEnv names the local variables sent (globs), SetEnv sets more; both reach the plan', () => {
    const config = file('s', 'Host *\n  SendEnv LANG LC_*\n  SetEnv MODE=e2e "NOTE=two words"\n')
    expect(variablesToSend(openSshSettingsFor('x', [config]).sendEnv?.value ?? [], { LANG: 'C.UTF-8', LC_ALL: 'C', PATH: '/bin', SECRET: 's' })).toEqual({ LANG: 'C.UTF-8', LC_ALL: 'C' })
    expect(openSshSettingsFor('x', [config]).setEnv?.value).toEqual({ MODE: 'e2e', NOTE: 'two words' })
  })

  test('Include relative to the including file, with a glob', () => {
    fs.mkdirSync(path.join(dir, 'conf.d'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'conf.d', 'one.conf'), 'Host app\n  HostName 192.0.2.7\n')
    const main = file('c', 'Include conf.d/*.conf\n')
    expect(openSshSettingsFor('app', [main]).hostName?.value).toBe('192.0.2.7')
  })

  test('a directive that would change the connection and cannot be honoured is refused at its file:line', () => {
    const config = file('d', 'Host *\n  PasswordAuthentication no\n  StrictHostKeyChecking no\n')
    expect(() => openSshSettingsFor('x', [config])).toThrow(ConfigError)
    try {
      openSshSettingsFor('x', [config])
    } catch (error) {
      expect((error as ConfigError).location).toEqual({ file: config, line: 3, column: 3 })
      expect((error as ConfigError).message).toMatch(/stricthostkeychecking .*ssh-known-hosts/)
    }
    expect(() => openSshSettingsFor('other', [file('e', 'Host only\n  Ciphers aes128-ctr\n')])).not.toThrow()
  })
})

describe('SSH options: Kamal settings over the config file, as Net::SSH merges them', () => {
  const inputs = { sshPrivateKey: undefined, sshKnownHosts: undefined } as unknown as ActionInputs
  const secrets = loadSecrets({ projectDir: dir, secretsPath: '.kamal/secrets', provided: {}, env: {} })
  const plan = (yaml: string, host = 'web1') => {
    const config = configFromYaml(`service: app\nimage: app\nservers:\n  - ${host}\nregistry:\n  username: u\n  password: p\n${yaml}`)
    const options = sshOptionsFor(config, inputs, secrets, {})
    return options.plan?.({ host, port: config.ssh.port, user: config.ssh.user })
  }

  test('HostName and ProxyJump from the file; User and Port always from Kamal; hops resolved by their own Host blocks', () => {
    const config = file('f', 'Host web1\n  HostName 10.0.0.21\n  User ignored\n  Port 2222\n  ProxyJump ops@gw1,gw2:2200\nHost gw2\n  HostName 10.0.0.2\n  User edge\n')
    const result = plan(`ssh:\n  user: app\n  config: ${config}\n`)
    expect(result?.target).toMatchObject({ host: '10.0.0.21', port: 22, user: 'app' })
    expect(result?.route).toMatchObject({ kind: 'jump', hops: [{ host: '10.0.0.2', port: 2200, user: 'edge' }, { host: 'gw1', port: 22, user: 'ops' }] })
  })

  test("Kamal's proxy_command wins over the file's ProxyJump and is substituted with the resolved host", () => {
    const config = file('g', 'Host web1\n  HostName 10.0.0.21\n  ProxyJump gw\n')
    expect(plan(`ssh:\n  port: 2022\n  config: ${config}\n  proxy_command: cloudflared access ssh --hostname %h:%p\n`)?.route).toEqual({
      kind: 'command',
      command: 'cloudflared access ssh --hostname 10.0.0.21:2022',
    })
  })

  test('config: false reads no file; a ProxyCommand with %r in the file is refused at its line', () => {
    const config = file('h', 'Host web1\n  ProxyCommand ssh -W %h:%p %r@gw\n')
    expect(plan('ssh:\n  config: false\n')?.route).toEqual({ kind: 'direct' })
    expect(() => plan(`ssh:\n  config: ${config}\n`)).toThrow(new RegExp(`${config}:2: ProxyCommand: %r cannot be used`))
  })

  test('a missing ssh/keys file is refused at its entry before any connection', () => {
    expect(() => plan(`ssh:\n  keys:\n    - ${dir}/no-such-key\n`)).toThrow(/no-such-key does not exist on the runner/)
  })
})

describe('upload over an exec channel: the shell line, run by a real sh', () => {
  const target = 'env/web.env'
  const run = (content: Buffer, length: number, mode: number) => {
    fs.mkdirSync(path.join(dir, 'env'), { recursive: true })
    return spawnSync('sh', ['-c', uploadCommand(target, length, mode, 'abc123')], { cwd: dir, input: content })
  }

  test('binary content lands whole with the final mode; the temporary file is gone', () => {
    const content = Buffer.from([0, 255, 10, 13, 39, 34, 92, 0, 1])
    expect(run(content, content.length, 0o600).status).toBe(0)
    expect(fs.readFileSync(path.join(dir, target)).equals(content)).toBe(true)
    expect(fs.statSync(path.join(dir, target)).mode & 0o7777).toBe(0o600)
    expect(fs.readdirSync(path.join(dir, 'env'))).toEqual(['web.env'])
  })

  test('an existing file gets the new mode; a cut stream (fewer bytes) leaves the old file untouched', () => {
    fs.writeFileSync(path.join(dir, target), 'OLD=1\n', { mode: 0o644 })
    expect(run(Buffer.from('NEW=2\n'), 6, 0o600).status).toBe(0)
    expect(fs.statSync(path.join(dir, target)).mode & 0o7777).toBe(0o600)
    const cut = run(Buffer.from('HALF'), 100, 0o600)
    expect(cut.status).not.toBe(0)
    expect(fs.readFileSync(path.join(dir, target), 'utf8')).toBe('NEW=2\n')
    expect(fs.readdirSync(path.join(dir, 'env'))).toEqual(['web.env'])
  })

  test('with a directory: made first, with the shell\'s umask (not the file\'s), in the same command', () => {
    const nested = 'apps/x/env/roles/web.env'
    const result = spawnSync('sh', ['-c', `umask 0022; ${uploadCommand(nested, 3, 0o600, 'n2', 'apps/x/env/roles')}`], { cwd: dir, input: Buffer.from('A=1') })
    expect(result.status).toBe(0)
    expect(fs.readFileSync(path.join(dir, nested), 'utf8')).toBe('A=1')
    expect(fs.statSync(path.join(dir, nested)).mode & 0o7777).toBe(0o600)
    expect(fs.statSync(path.join(dir, 'apps/x/env/roles')).mode & 0o7777).toBe(0o755)
    expect(uploadCommand(nested, 3, 0o600, 'n2', 'apps/x/env/roles')).toMatch(/^mkdir -p apps\/x\/env\/roles && umask 0177 && cat > /)
  })

  test('the content never appears in the command line; odd paths are quoted', () => {
    const line = uploadCommand("it's dir/a b.env", 5, 0o644, 'n1')
    expect(line).toContain(`'it'\\''s dir/.a b.env.n1.tmp'`)
    expect(line).toMatch(/^umask 0133 && cat > /)
    expect(execFileSync('sh', ['-n', '-c', line]).length).toBe(0)
  })
})
