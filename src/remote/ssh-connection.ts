import type { Duplex } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { Client, utils, type AgentAuthMethod, type ClientChannel, type ConnectConfig, type ExecOptions, type ParsedKey, type PublicKeyAuthMethod, type TcpConnectionDetails } from 'ssh2'
import { fingerprint, knownHostsLine, type KnownHosts } from './known-hosts'
import { openProxyCommand } from './proxy-command'
import { execOnSession, openSessionAhead } from './session-ahead'
import { memoized } from '../memoized'

/** What a remote command returned. Failure is decided by `code`, never by stderr. */
export interface RemoteResult {
  code: number
  stdout: string
  stderr: string
}

export interface SshEndpoint {
  host: string
  port: number
  user: string
}

/** Where and as whom to authenticate one SSH session (a target or a jump hop). */
export interface SshTarget {
  /** the address dialled and checked against known_hosts (ssh config HostName, else the host) */
  host: string
  port: number
  user: string
  /** private keys in OpenSSH/PEM text, tried in order */
  privateKeys: string[]
  /** ssh config ConnectTimeout / ServerAliveCountMax for this session */
  connectTimeoutMs?: number
  keepaliveCountMax?: number
  /** variables sent with every command (ssh config SendEnv/SetEnv) */
  env?: Record<string, string>
}

/** How the target is reached: directly, through jump hosts (in visiting order), or over a proxy command's stdio. */
export type SshRoute = { kind: 'direct' } | { kind: 'jump'; hops: SshTarget[] } | { kind: 'command'; command: string }

export interface SshPlan {
  target: SshTarget
  route: SshRoute
}

export interface SshOptions {
  /** private keys in OpenSSH/PEM text, tried in order (when no plan says otherwise) */
  privateKeys: string[]
  /** ssh-agent socket, tried after the keys */
  agentSocket?: string
  /** ssh-agent socket to forward to the host (auth-agent@openssh.com) */
  forwardAgentSocket?: string
  /** pinned host keys; when given, an unknown or different key (of the target or any hop) is refused before any command */
  knownHosts?: KnownHosts
  /** called for each host key accepted without pinning (no known_hosts given) */
  onUnpinnedKey?: (host: string, fingerprint: string, pinLine: string) => void
  /** how to reach each host (ssh config, jump hosts, proxy command); default: directly, with `privateKeys` */
  plan?: (endpoint: SshEndpoint) => SshPlan
  /** Kamal's sshkit.dns_retries: connection attempts repeated after a DNS failure */
  dnsRetries?: number
  onWarning?: (message: string) => void
  /** protocol-level log lines (ssh.log_level debug) */
  debug?: (message: string) => void
  connectTimeoutMs?: number
  keepaliveIntervalMs?: number
  keepaliveCountMax?: number
}

export class HostKeyError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message)
    this.name = 'HostKeyError'
  }
}

export class SshConnectError extends Error {
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message)
    this.name = 'SshConnectError'
  }
}

/** A port the host listens on for us (`ssh -R`); `close` stops listening. */
export interface ReverseForward {
  close: () => Promise<void>
}

/** One SSH connection to one host, reused for every command of the run. */
export class SshConnection {
  private readonly reverseForwards = new Map<string, (channel: Duplex) => void>()
  private lostReason?: string
  private readonly lostListeners = new Set<(reason: string) => void>()
  private forwardingAgent: boolean
  /**
   * The session the next plain command runs on (see session-ahead.ts): one opened ahead, taken by
   * a command, and another opened at once. Not with SendEnv/SetEnv variables or agent
   * forwarding (requests ssh2's exec makes before the command); none once the server refused one.
   */
  private sessionAhead?: Promise<ClientChannel | undefined>
  private sessionsAhead = true

  private constructor(
    readonly endpoint: SshEndpoint,
    private readonly client: Client,
    private readonly options: SshOptions,
    private readonly underlying: Array<{ end: () => void }>,
    private readonly env?: Record<string, string>,
  ) {
    this.forwardingAgent = Boolean(options.forwardAgentSocket)
    client.on('tcp connection', (details: TcpConnectionDetails, accept: () => ClientChannel, reject: () => void) => {
      const handler = this.reverseForwards.get(`${details.destIP}:${details.destPort}`)
      if (handler) handler(accept())
      else reject()
    })
    let lastError = ''
    client.on('error', (error: Error) => (lastError = error.message))
    client.on('close', () => {
      this.lostReason ??= lastError ? `the SSH connection to ${this.host} failed: ${lastError}` : `the SSH connection to ${this.host} closed`
      for (const listener of this.lostListeners) listener(this.lostReason)
      for (const item of this.underlying) item.end()
    })
    // The first session ahead, as soon as the connection is up: the run's first command gets it.
    this.takeSessionAhead()
  }

  static async open(endpoint: SshEndpoint, options: SshOptions): Promise<SshConnection> {
    const plan = options.plan?.(endpoint) ?? { target: { ...endpoint, privateKeys: options.privateKeys }, route: { kind: 'direct' } }
    const underlying: Array<{ end: () => void }> = []
    try {
      let sock: Duplex | undefined
      if (plan.route.kind === 'command') {
        const proxy = openProxyCommand(plan.route.command)
        underlying.push({ end: proxy.kill })
        sock = proxy.stream
      } else if (plan.route.kind === 'jump') {
        let previous: { client: Client; name: string } | undefined
        for (const hop of plan.route.hops) {
          const hopSock: Duplex | undefined = previous ? await forwardThrough(previous.client, previous.name, hop, endpoint.host) : undefined
          const client = await connectWithRetries(hop, options, hopSock)
          underlying.unshift({ end: () => client.end() })
          previous = { client, name: hop.host }
        }
        if (previous) sock = await forwardThrough(previous.client, previous.name, plan.target, endpoint.host)
      }
      const client = await connectWithRetries(plan.target, options, sock)
      return new SshConnection(endpoint, client, options, underlying, plan.target.env)
    } catch (error) {
      for (const item of underlying) item.end()
      throw error
    }
  }

  get host(): string {
    return this.endpoint.host
  }

  /** ssh config SendEnv/SetEnv variables go with every command. */
  private get sendsEnv(): boolean {
    return this.env !== undefined && Object.keys(this.env).length > 0
  }

  private takeSessionAhead(): Promise<ClientChannel | undefined> | undefined {
    if (!this.sessionsAhead || this.forwardingAgent || this.sendsEnv || this.lostReason) return undefined
    const taken = this.sessionAhead
    this.sessionAhead = openSessionAhead(this.client).then((channel) => {
      if (!channel) this.sessionsAhead = false
      return channel
    })
    return taken
  }

  /** Runs a command line through the login shell in the home directory. `stdin` is written then closed. */
  exec(command: string, { stdin, onOutput }: { stdin?: string | Buffer; onOutput?: (chunk: Buffer) => void } = {}): Promise<RemoteResult> {
    const ahead = this.takeSessionAhead()
    if (!ahead) return this.execOnNewSession(command, { stdin, onOutput })
    return ahead.then((channel) => {
      if (!channel) return this.execOnNewSession(command, { stdin, onOutput })
      return new Promise<RemoteResult>((resolve, reject) =>
        execOnSession(this.client, channel, command, (error) => (error ? this.execOnNewSession(command, { stdin, onOutput }) : this.collect(channel, stdin, onOutput)).then(resolve, reject)),
      )
    })
  }

  private execOnNewSession(command: string, { stdin, onOutput }: { stdin?: string | Buffer; onOutput?: (chunk: Buffer) => void }): Promise<RemoteResult> {
    return new Promise((resolve, reject) => {
      const forwarding = this.forwardingAgent
      const execOptions = { ...(forwarding ? { agentForward: true } : {}), ...(this.sendsEnv ? { env: this.env } : {}) } as ExecOptions
      this.client.exec(command, execOptions, (error, channel: ClientChannel) => {
        if (error && forwarding && /agent forwarding/i.test(error.message)) {
          // Net::SSH logs a refused agent forwarding and runs the command anyway; so do we.
          this.forwardingAgent = false
          this.options.onWarning?.(`${this.host} refused SSH agent forwarding (ssh/forward_agent); running without it.`)
          return this.exec(command, { stdin }).then(resolve, reject)
        }
        if (error) return reject(new SshConnectError(this.host, `cannot run a command on ${this.host}: ${error.message}`))
        this.collect(channel, stdin, onOutput).then(resolve, reject)
      })
    })
  }

  /** A started command's output and exit status; `stdin` is written then closed. Its listeners are on the channel when this returns. */
  private collect(channel: ClientChannel, stdin: string | Buffer | undefined, onOutput?: (chunk: Buffer) => void): Promise<RemoteResult> {
    return new Promise((resolve) => {
      const stdout: Buffer[] = []
      const stderr: Buffer[] = []
      let code: number | null = null
      channel.on('data', (chunk: Buffer) => (stdout.push(chunk), onOutput?.(chunk)))
      channel.stderr.on('data', (chunk: Buffer) => (stderr.push(chunk), onOutput?.(chunk)))
      channel.on('exit', (exitCode: number | null, signal?: string) => {
        code = exitCode ?? (signal ? 128 : 255)
      })
      channel.on('close', () => resolve({ code: code ?? 255, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }))
      channel.end(stdin)
    })
  }

  /**
   * Writes a file (path relative to the home directory) with `mode`, over an exec channel as
   * Kamal's scp needs no SFTP subsystem. The bytes go on stdin (never in argv) into a temporary
   * file beside the target, created with at most `mode`; only a complete file is renamed into place.
   * With `directory`, that is made first (`mkdir -p`, before the umask) in the same command.
   */
  async upload(remotePath: string, content: string | Buffer, mode: number, directory?: string): Promise<void> {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content
    const result = await this.exec(uploadCommand(remotePath, bytes.length, mode, randomBytes(6).toString('hex'), directory), { stdin: bytes })
    if (result.code !== 0) {
      throw new SshConnectError(this.host, `cannot write ${remotePath} on ${this.host} (exit status ${result.code})${result.stderr.trim() ? `: ${result.stderr.trim()}` : ''}`)
    }
  }

  /**
   * Makes the host listen on `bindAddress:port` and hands each connection made there to
   * `onConnection` as a stream (the equivalent of `ssh -R bindAddress:port:…`). Resolves once the
   * host listens; fails if it cannot (port taken, forwarding disabled in sshd).
   */
  forwardIn(bindAddress: string, port: number, onConnection: (channel: Duplex) => void): Promise<ReverseForward> {
    const key = `${bindAddress}:${port}`
    return new Promise((resolve, reject) => {
      this.client.forwardIn(bindAddress, port, (error) => {
        if (error) return reject(new SshConnectError(this.host, `${this.host} refused to listen on ${key} for us (ssh -R): ${error.message}`))
        this.reverseForwards.set(key, onConnection)
        resolve({
          close: () =>
            new Promise<void>((done) => {
              this.reverseForwards.delete(key)
              if (this.lostReason) return done()
              this.client.unforwardIn(bindAddress, port, () => done())
            }),
        })
      })
    })
  }

  /** Calls `listener` with the reason when this connection is lost (or closed); at once if it already was. Returns the unsubscribe. */
  onLost(listener: (reason: string) => void): () => void {
    if (this.lostReason) {
      listener(this.lostReason)
      return () => undefined
    }
    this.lostListeners.add(listener)
    return () => this.lostListeners.delete(listener)
  }

  close(): void {
    this.lostReason ??= `the SSH connection to ${this.host} was closed by the deploy`
    this.client.end()
    for (const item of this.underlying) item.end()
  }
}

/** The shell line of an upload; the content arrives on stdin and its length is checked before the rename. */
export function uploadCommand(remotePath: string, length: number, mode: number, nonce: string, directory?: string): string {
  const slash = remotePath.lastIndexOf('/')
  const temporary = `${remotePath.slice(0, slash + 1)}.${remotePath.slice(slash + 1)}.${nonce}.tmp`
  const octal = (mode & 0o7777).toString(8).padStart(4, '0')
  const umask = (~mode & 0o777).toString(8).padStart(4, '0')
  const tmp = shellQuote(temporary)
  return (
    `${directory ? `mkdir -p ${shellQuote(directory)} && ` : ''}umask ${umask} && cat > ${tmp} && [ "$(wc -c < ${tmp})" -eq ${length} ] && chmod ${octal} ${tmp} && mv -f ${tmp} ${shellQuote(remotePath)}` +
    ` || { status=$?; rm -f ${tmp}; exit $status; }`
  )
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`
}

/** A channel from `via` to `to`, the socket of the next session of a jump chain. */
function forwardThrough(via: Client, viaName: string, to: SshTarget, forHost: string): Promise<Duplex> {
  return new Promise((resolve, reject) =>
    via.forwardOut('127.0.0.1', 0, to.host, to.port, (error, stream) =>
      error ? reject(new SshConnectError(forHost, `cannot reach ${to.host}:${to.port} through the jump host ${viaName}: ${error.message}`)) : resolve(stream),
    ),
  )
}

const DNS_FAILURE = /getaddrinfo|ENOTFOUND|EAI_AGAIN|Temporary failure in name resolution|Name or service not known/i

/** Kamal's DNS retry: 0.1 s doubling up to 2 s, plus up to 0.1 s of jitter, `dnsRetries` times. */
async function connectWithRetries(target: SshTarget, options: SshOptions, sock?: Duplex): Promise<Client> {
  const retries = sock ? 0 : (options.dnsRetries ?? 0)
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectClient(target, options, sock)
    } catch (error) {
      if (!(error instanceof SshConnectError) || !DNS_FAILURE.test(error.message) || attempt > retries) throw error
      const delay = Math.min(0.1 * 2 ** (attempt - 1), 2) + Math.random() * 0.1
      options.onWarning?.(`Retrying DNS for ${target.host} (attempt ${attempt}/${retries}) in ${delay.toFixed(2)}s: ${error.message}`)
      await new Promise((done) => setTimeout(done, delay * 1000))
    }
  }
}

/**
 * A private key parsed once for every connection that offers it: ssh2 parses a key given as text
 * on each connection, about 5 ms of the event loop at the start of a deploy, when every host
 * connects at once. A key ssh2 cannot parse alone (an error, several keys) goes as text, as before.
 */
const parsedKey = memoized((key): ParsedKey | string => {
  const result = utils.parseKey(key)
  return result instanceof Error || Array.isArray(result) ? key : result
})

function connectClient(endpoint: SshTarget, options: SshOptions, sock?: Duplex): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client()
    let hostKeyProblem: HostKeyError | undefined
    const config: ConnectConfig = {
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      readyTimeout: endpoint.connectTimeoutMs ?? options.connectTimeoutMs ?? 20_000,
      keepaliveInterval: options.keepaliveIntervalMs ?? 30_000,
      keepaliveCountMax: endpoint.keepaliveCountMax ?? options.keepaliveCountMax ?? 3,
      authHandler: [
        ...endpoint.privateKeys.map((key): PublicKeyAuthMethod => ({ type: 'publickey', username: endpoint.user, key: parsedKey(key) })),
        ...(options.agentSocket ? [{ type: 'agent', username: endpoint.user, agent: options.agentSocket } as AgentAuthMethod] : []),
      ],
      hostVerifier: (key: Buffer) => {
        const verdict = options.knownHosts ? options.knownHosts.check(endpoint.host, endpoint.port, key) : 'unpinned'
        if (verdict === 'match') return true
        if (verdict === 'unpinned') {
          options.onUnpinnedKey?.(endpoint.host, fingerprint(key), knownHostsLine(endpoint.host, endpoint.port, key))
          return true
        }
        const offered = `${fingerprint(key)} (${knownHostsLine(endpoint.host, endpoint.port, key)})`
        hostKeyProblem = new HostKeyError(
          endpoint.host,
          verdict === 'unknown'
            ? `Host key of ${endpoint.host} is not in ssh-known-hosts; refusing to connect. It offered ${offered}. If that is your server, add this line to ssh-known-hosts.`
            : verdict === 'revoked'
              ? `Host key of ${endpoint.host} is marked @revoked in ssh-known-hosts; refusing to connect.`
              : `Host key of ${endpoint.host} does not match ssh-known-hosts: it offered ${fingerprint(key)}. Someone may be intercepting the connection, or the server was rebuilt: check, then update ssh-known-hosts.`,
        )
        return false
      },
    }
    if (sock) config.sock = sock as ConnectConfig['sock']
    if (options.forwardAgentSocket) config.agent = options.forwardAgentSocket
    if (options.debug) config.debug = options.debug
    client.once('ready', () => resolve(client))
    client.once('error', (error: Error & { level?: string }) => {
      client.end()
      if (hostKeyProblem) return reject(hostKeyProblem)
      const reason = error.level === 'client-authentication' ? `authentication failed for ${endpoint.user}@${endpoint.host}: check ssh-private-key and that its public key is in ~/.ssh/authorized_keys of ${endpoint.user}` : error.message
      reject(new SshConnectError(endpoint.host, `SSH to ${endpoint.user}@${endpoint.host}:${endpoint.port} failed: ${reason}`))
    })
    client.connect(config)
    // Without TCP_NODELAY, each exec's small packets wait on the peer's delayed ACK (Nagle):
    // about 85 ms per command on top of a few ms of work. A jump or proxy stream has no socket option.
    client.setNoDelay(true)
  })
}
