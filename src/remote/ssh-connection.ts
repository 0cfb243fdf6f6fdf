import type { Duplex } from 'node:stream'
import { Client, type AgentAuthMethod, type ClientChannel, type ConnectConfig, type PublicKeyAuthMethod, type SFTPWrapper, type TcpConnectionDetails } from 'ssh2'
import { fingerprint, knownHostsLine, type KnownHosts } from './known-hosts'

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

export interface SshOptions {
  /** private keys in OpenSSH/PEM text, tried in order */
  privateKeys: string[]
  /** ssh-agent socket, tried after the keys */
  agentSocket?: string
  /** pinned host keys; when given, an unknown or different key is refused before any command */
  knownHosts?: KnownHosts
  /** called for each host key accepted without pinning (no known_hosts given) */
  onUnpinnedKey?: (host: string, fingerprint: string, pinLine: string) => void
  /** jump host (`ssh.proxy`) */
  jump?: SshEndpoint
  connectTimeoutMs?: number
  keepaliveIntervalMs?: number
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
  private sftpSession?: Promise<SFTPWrapper>
  private readonly reverseForwards = new Map<string, (channel: Duplex) => void>()
  private lostReason?: string
  private readonly lostListeners = new Set<(reason: string) => void>()

  private constructor(
    readonly endpoint: SshEndpoint,
    private readonly client: Client,
    private readonly jumpClient?: Client,
  ) {
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
    })
  }

  static async open(endpoint: SshEndpoint, options: SshOptions): Promise<SshConnection> {
    let jumpClient: Client | undefined
    let sock: NodeJS.ReadableStream | undefined
    if (options.jump) {
      jumpClient = await connectClient(options.jump, options)
      sock = await new Promise((resolve, reject) =>
        (jumpClient as Client).forwardOut('127.0.0.1', 0, endpoint.host, endpoint.port, (error, stream) => (error ? reject(new SshConnectError(endpoint.host, `cannot reach ${endpoint.host}:${endpoint.port} through the jump host ${options.jump?.host}: ${error.message}`)) : resolve(stream))),
      )
    }
    const client = await connectClient(endpoint, options, sock)
    return new SshConnection(endpoint, client, jumpClient)
  }

  get host(): string {
    return this.endpoint.host
  }

  /** Runs a command line through the login shell in the home directory. `stdin` is written then closed. */
  exec(command: string, { stdin, onOutput }: { stdin?: string | Buffer; onOutput?: (chunk: Buffer) => void } = {}): Promise<RemoteResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel: ClientChannel) => {
        if (error) return reject(new SshConnectError(this.host, `cannot run a command on ${this.host}: ${error.message}`))
        const stdout: Buffer[] = []
        const stderr: Buffer[] = []
        let code: number | null = null
        channel.on('data', (chunk: Buffer) => (stdout.push(chunk), onOutput?.(chunk)))
        channel.stderr.on('data', (chunk: Buffer) => (stderr.push(chunk), onOutput?.(chunk)))
        channel.on('exit', (exitCode: number | null, signal?: string) => {
          code = exitCode ?? (signal ? 128 : 255)
        })
        channel.on('close', () =>
          resolve({ code: code ?? 255, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }),
        )
        channel.end(stdin)
      })
    })
  }

  /** Writes a file (path relative to the home directory) and sets its mode, over SFTP. */
  async upload(remotePath: string, content: string | Buffer, mode: number): Promise<void> {
    const sftp = await this.sftp()
    await new Promise<void>((resolve, reject) => sftp.writeFile(remotePath, content, { mode }, (error) => (error ? reject(error) : resolve())))
    // writeFile's mode applies only when it creates the file; an existing file keeps its old mode otherwise.
    await new Promise<void>((resolve, reject) => sftp.chmod(remotePath, mode, (error) => (error ? reject(error) : resolve())))
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
    this.jumpClient?.end()
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise((resolve, reject) => this.client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp))))
    return this.sftpSession
  }
}

function connectClient(endpoint: SshEndpoint, options: SshOptions, sock?: NodeJS.ReadableStream): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client()
    let hostKeyProblem: HostKeyError | undefined
    const config: ConnectConfig = {
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      readyTimeout: options.connectTimeoutMs ?? 20_000,
      keepaliveInterval: options.keepaliveIntervalMs ?? 30_000,
      keepaliveCountMax: 3,
      authHandler: [
        ...options.privateKeys.map((key): PublicKeyAuthMethod => ({ type: 'publickey', username: endpoint.user, key })),
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
    client.once('ready', () => resolve(client))
    client.once('error', (error: Error & { level?: string }) => {
      client.end()
      if (hostKeyProblem) return reject(hostKeyProblem)
      const reason = error.level === 'client-authentication' ? `authentication failed for ${endpoint.user}@${endpoint.host}: check ssh-private-key and that its public key is in ~/.ssh/authorized_keys of ${endpoint.user}` : error.message
      reject(new SshConnectError(endpoint.host, `SSH to ${endpoint.user}@${endpoint.host}:${endpoint.port} failed: ${reason}`))
    })
    client.connect(config)
  })
}
