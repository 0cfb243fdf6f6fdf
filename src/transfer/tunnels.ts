import * as net from 'node:net'
import type { Duplex } from 'node:stream'
import type { ReverseForward, SshConnection } from '../remote/ssh-connection'

export interface TunnelOptions {
  /** the port the hosts pull from (`localhost:<remotePort>/…`) */
  remotePort: number
  /** the local registry's port on 127.0.0.1 */
  localPort: number
  /** called with every chunk sent toward a host */
  onBytesSent: (host: string, bytes: number) => void
  timeoutMs?: number
}

/**
 * One reverse forward per host on the deploy's own SSH connection: the host's 127.0.0.1:<remotePort>
 * leads to 127.0.0.1:<localPort> here. Resolves once every host listens (Kamal waits 30 s too).
 * The returned function closes them all.
 */
export async function openTunnels(connections: SshConnection[], options: TunnelOptions): Promise<() => Promise<void>> {
  const opened: ReverseForward[] = []
  const closeAll = async () => void (await Promise.all(opened.splice(0).map((forward) => forward.close())))
  const timeoutMs = options.timeoutMs ?? 30_000
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out waiting for port forwarding to be established (${timeoutMs / 1000}s)`)), timeoutMs)
  })
  try {
    await Promise.race([
      Promise.all(
        connections.map(async (connection) => {
          const forward = await connection.forwardIn('127.0.0.1', options.remotePort, (channel) => bridge(channel, connection.host, options))
          opened.push(forward)
        }),
      ),
      timedOut,
    ])
  } catch (error) {
    await closeAll()
    throw error
  } finally {
    clearTimeout(timer)
  }
  return closeAll
}

/** Pipes one forwarded connection to the local registry both ways, counting what goes to the host. */
function bridge(channel: Duplex, host: string, options: TunnelOptions): void {
  const local = net.connect(options.localPort, '127.0.0.1')
  local.on('data', (chunk: Buffer) => options.onBytesSent(host, chunk.length))
  local.on('error', () => channel.destroy())
  channel.on('error', () => local.destroy())
  channel.on('close', () => local.destroy())
  local.on('close', () => channel.end())
  channel.pipe(local)
  local.pipe(channel)
}
