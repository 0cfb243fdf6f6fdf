import { ConfigError } from '../src/errors'
import { parseJumpChain } from '../src/config/ssh'
import { visitingOrder } from '../src/deploy/ssh-options'
import { substituteProxyCommand } from '../src/remote/proxy-command'
import { configFromYaml } from './support/config'

const BASE = 'service: app\nimage: app\nservers:\n  - 10.0.0.1\nregistry:\n  username: u\n  password: p\n'

function refusal(yaml: string): ConfigError {
  const config = configFromYaml(BASE + yaml)
  try {
    void config.ssh
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('typed ssh: and sshkit: sections', () => {
  test('defaults as Kamal and sshkit: root, 22, agent forwarding on, default config files, sshkit 30/900/3', () => {
    const ssh = configFromYaml(BASE).ssh
    expect(ssh).toMatchObject({ user: 'root', port: 22, proxy: undefined, keys: undefined, keyData: [], config: true, forwardAgent: true, logLevel: 'fatal' })
    expect(ssh.sshkit).toEqual({ maxConcurrentStarts: 30, poolIdleTimeout: 900, dnsRetries: 3 })
  })

  test('every key read into its typed field', () => {
    const ssh = configFromYaml(
      BASE +
        'ssh:\n  user: app\n  port: "2222"\n  proxy_command: cloudflared access ssh --hostname %h\n  keys_only: true\n  keys: [~/.ssh/a]\n  key_data: [SSH_KEY]\n  config: ~/.ssh/other\n  forward_agent: false\n  log_level: DEBUG\nsshkit:\n  max_concurrent_starts: 4\n  pool_idle_timeout: 60\n  dns_retries: "0"\n',
    ).ssh
    expect(ssh).toMatchObject({ user: 'app', port: 2222, keysOnly: true, keys: ['~/.ssh/a'], config: '~/.ssh/other', forwardAgent: false, logLevel: 'debug' })
    expect(ssh.proxy).toEqual({ kind: 'command', template: 'cloudflared access ssh --hostname %h', at: ['ssh', 'proxy_command'] })
    expect(ssh.keyData).toEqual([{ secret: 'SSH_KEY', at: ['ssh', 'key_data', 0] }])
    expect(ssh.sshkit).toEqual({ maxConcurrentStarts: 4, poolIdleTimeout: 60, dnsRetries: 0 })
  })

  test('an inline private key in key_data is taken, with Kamal\'s deprecation warning, and is not a secret reference', () => {
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\\nAAAA\\n-----END OPENSSH PRIVATE KEY-----'
    const config = configFromYaml(BASE + `ssh:\n  key_data:\n    - "${pem}"\n    - SSH_KEY\n`)
    expect(config.ssh.keyData[0]).toEqual({ inline: pem.replace(/\\n/g, '\n'), at: ['ssh', 'key_data', 0] })
    expect(config.ssh.warnings).toEqual(['Inline key_data usage is deprecated and will be removed in Kamal 3. Please store your key_data in a secret.'])
    expect(config.secretReferences().filter((reference) => reference.path[0] === 'ssh')).toEqual([{ key: 'SSH_KEY', path: ['ssh', 'key_data', 1] }])
  })

  test('ssh.proxy: root@ is added only when the value names no user at all (as Kamal)', () => {
    expect(configFromYaml(BASE + 'ssh:\n  proxy: bastion\n').ssh.proxy).toMatchObject({ kind: 'jump', hops: [{ user: 'root', host: 'bastion' }] })
    expect(configFromYaml(BASE + 'ssh:\n  proxy: a:2200,b\n').ssh.proxy).toMatchObject({ hops: [{ user: 'root', host: 'a', port: 2200 }, { user: undefined, host: 'b' }] })
    expect(configFromYaml(BASE + 'ssh:\n  proxy: a,ops@b\n').ssh.proxy).toMatchObject({ hops: [{ user: undefined, host: 'a' }, { user: 'ops', host: 'b' }] })
  })

  test.each([
    ['ssh:\n  proxy: a\n  proxy_command: nc %h %p\n', 10, /proxy_command is ignored by Kamal when ssh\/proxy is set/],
    ['ssh:\n  proxy_command: ssh -W %h:%p %r@gw\n', 9, /%r cannot be used.*remote user name not available/],
    ['ssh:\n  proxy_command: nc %h %p %n\n', 9, /%n is not a token Net::SSH knows/],
    ['ssh:\n  proxy: "a b"\n', 9, /not a jump chain/],
    ['ssh:\n  proxy: a\n  config: [x, y]\n', 10, /list cannot be combined with ssh\/proxy/],
    ['ssh:\n  log_level: loud\n', 9, /invalid log level loud/],
    ['ssh:\n  port: "22x"\n', 9, /not a TCP port/],
    ['sshkit:\n  max_concurrent_starts: 0\n', 9, /at least 1/],
  ])('refused at its line: %j', (yaml, line, message) => {
    const error = refusal(yaml)
    expect(error.message).toMatch(message)
    expect(error.location).toMatchObject({ file: 'config/deploy.yml', line })
  })
})

describe('proxy_command substitution (Net::SSH::Proxy::Command)', () => {
  test('%h, %p and %% are replaced; a lone trailing % stays', () => {
    expect(substituteProxyCommand('ssh -W %h:%p gw # 100%% %', { host: '10.0.0.5', port: 2222 })).toBe('ssh -W 10.0.0.5:2222 gw # 100% %')
  })
  test('%r only when a remote user is known; unknown tokens are errors', () => {
    expect(substituteProxyCommand('connect %r@%h', { host: 'h', port: 22, user: 'deploy' })).toBe('connect deploy@h')
    expect(() => substituteProxyCommand('connect %r@%h', { host: 'h', port: 22 })).toThrow('remote user name not available')
    expect(() => substituteProxyCommand('x %C', { host: 'h', port: 22 })).toThrow('unknown key: C')
  })
})

describe('jump chains (Net::SSH::Proxy::Jump)', () => {
  test('[user@]host[:port] hops, IPv6 in brackets', () => {
    expect(parseJumpChain('u1@a:2201,b,[fd00::1]:22')).toEqual([
      { user: 'u1', host: 'a', port: 2201 },
      { user: undefined, host: 'b', port: undefined },
      { user: undefined, host: 'fd00::1', port: 22 },
    ])
    expect(parseJumpChain('a,,b')).toBeUndefined()
  })
  test('visiting order of `ssh -J hop2,…,hopN -W %h:%p hop1`: hop2…hopN, then hop1', () => {
    expect(visitingOrder(['a'])).toEqual(['a'])
    expect(visitingOrder(['a', 'b'])).toEqual(['b', 'a'])
    expect(visitingOrder(['a', 'b', 'c'])).toEqual(['b', 'c', 'a'])
  })
})
