import { SshConnection, type RemoteResult, type SshEndpoint, type SshOptions } from '../remote/ssh-connection'

/** A remote command that exited non-zero (or could not run). */
export class RemoteCommandError extends Error {
  constructor(
    readonly host: string,
    readonly command: string,
    readonly result: RemoteResult,
    readonly step?: string,
  ) {
    const output = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-15).join('\n')
    super(`${step ? `${step} on ${host}` : `Command on ${host}`} failed with exit status ${result.code}: ${command}${output ? `\n${output}` : ''}`)
    this.name = 'RemoteCommandError'
  }
}

/** Failures from several hosts at once, reported together as Kamal does ("Exceptions on N hosts"). */
export class MultiHostError extends Error {
  constructor(readonly failures: Array<{ host: string; error: Error }>) {
    super(
      failures.length === 1
        ? failures[0].error.message
        : `Exceptions on ${failures.length} hosts:\n${failures.map(({ host, error }) => `  ${host}: ${error.message}`).join('\n')}`,
    )
    this.name = 'MultiHostError'
  }
}

/** Runs `work` for each item with at most `limit` in flight; waits for all, then throws the combined failures. */
export async function forEachLimited<T>(items: T[], limit: number, label: (item: T) => string, work: (item: T) => Promise<void>): Promise<void> {
  const failures: Array<{ host: string; error: Error }> = []
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]
      try {
        await work(item)
      } catch (error) {
        failures.push({ host: label(item), error: error instanceof Error ? error : new Error(String(error)) })
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  if (failures.length > 0) throw new MultiHostError(failures)
}

export interface HostPoolOptions extends SshOptions {
  user: string
  port: number
  /** Kamal's sshkit.max_concurrent_starts */
  maxConcurrentStarts?: number
  /** Kamal's sshkit.pool_idle_timeout (seconds): a connection idle that long is replaced before its next use */
  poolIdleTimeoutSeconds?: number
}

/** One SSH connection per host for the whole run, opened in parallel with a bound on concurrent handshakes. */
export class HostPool {
  private readonly connections = new Map<string, SshConnection>()
  private readonly lastUsed = new Map<string, number>()
  /** handshakes started by `openEarly`, not yet taken by `connect` */
  private readonly early = new Map<string, { startedAt: number; opening: Promise<SshConnection> }>()

  constructor(
    private readonly options: HostPoolOptions,
    private readonly clock: () => number = Date.now,
  ) {}

  /** SSHKit's pool: a connection idle for longer than pool_idle_timeout is closed and a new one opened. */
  async refreshIfIdle(host: string): Promise<boolean> {
    const timeout = this.options.poolIdleTimeoutSeconds
    const used = this.lastUsed.get(host)
    if (!timeout || used === undefined || !this.connections.has(host) || this.clock() - used < timeout * 1000) return false
    await this.reconnect([host])
    return true
  }

  async connect(hosts: string[]): Promise<void> {
    const missing = hosts.filter((host) => !this.connections.has(host))
    await forEachLimited(missing, this.options.maxConcurrentStarts ?? 30, (host) => host, async (host) => {
      const started = this.early.get(host)
      this.early.delete(host)
      this.connections.set(host, await (started?.opening ?? this.open(host)))
    })
  }

  /**
   * Starts the handshakes now (up to max_concurrent_starts of them), while the runner still
   * plans; `connect` takes each one up, and a failure surfaces there, as any connect's would.
   */
  openEarly(hosts: string[]): void {
    const limit = this.options.maxConcurrentStarts ?? 30
    for (const host of hosts.filter((item) => !this.connections.has(item) && !this.early.has(item)).slice(0, limit)) {
      const opening = this.open(host)
      opening.catch(() => undefined)
      this.early.set(host, { startedAt: Date.now(), opening })
    }
  }

  /** When the handshake with this host began, if `openEarly` began it and `connect` has not taken it yet. */
  earlyStart(host: string): number | undefined {
    return this.early.get(host)?.startedAt
  }

  private open(host: string): Promise<SshConnection> {
    const endpoint: SshEndpoint = { host, port: this.options.port, user: this.options.user }
    return SshConnection.open(endpoint, this.options)
  }

  /** Drops and reopens the connections to these hosts (after something on the host ended the session). */
  async reconnect(hosts: string[]): Promise<void> {
    for (const host of hosts) {
      this.connections.get(host)?.close()
      this.connections.delete(host)
    }
    await this.connect(hosts)
  }

  get(host: string): SshConnection {
    const connection = this.connections.get(host)
    if (!connection) throw new Error(`no SSH connection to ${host}`)
    this.lastUsed.set(host, this.clock())
    return connection
  }

  closeAll(): void {
    for (const connection of this.connections.values()) connection.close()
    this.connections.clear()
    // A handshake started early and never taken (the plan failed first): closed once it is open.
    for (const { opening } of this.early.values()) opening.then((connection) => connection.close(), () => undefined)
    this.early.clear()
  }
}
