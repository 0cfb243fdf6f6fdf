/**
 * A session channel opened ahead of the next command. ssh2's `exec` opens a session channel and,
 * once the server has confirmed it, asks for the command: two round trips before the command
 * starts. Opening the channel is all a session costs until a request comes (sshd starts no
 * process, runs no ForceCommand), so a connection keeps one open and the next command that
 * needs neither environment variables nor agent forwarding starts in one round trip.
 *
 * ssh2 1.x has no public call for a bare session channel: this does what its own `exec` does,
 * through the same internals (Client._chanMgr and _protocol, Channel._callbacks). The version is
 * pinned by package-lock.json and bundled into dist/; `__tests__/e2e/session-ahead.test.ts` runs
 * it against a real sshd, `__tests__/session-ahead.test.ts` the close that sshd cannot be made to send.
 */
import type { Client, ClientChannel } from 'ssh2'

// ssh2's own window and packet size for the channels it opens (lib/Channel.js, not in its typings).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MAX_WINDOW, PACKET_SIZE } = require('ssh2/lib/Channel.js') as { MAX_WINDOW: number; PACKET_SIZE: number }

interface ClientInternals {
  _chanMgr: { add(callback: OpenCallback): number }
  _protocol: { session(localId: number, window: number, packetSize: number): void; exec(remoteId: number, command: string, wantReply: boolean): void }
}

interface ChannelInternals {
  outgoing: { id: number; state: string }
  _callbacks: Array<(failed: boolean) => void>
  subtype?: string
  allowHalfOpen?: boolean
}

type OpenCallback = ((error: Error | undefined, channel?: ClientChannel) => void) & { type?: string }

/** Opens a session channel and resolves with it once the server confirms it (undefined if it refuses or cannot). */
export function openSessionAhead(client: Client): Promise<ClientChannel | undefined> {
  return new Promise((resolve) => {
    const internals = client as unknown as ClientInternals
    if (typeof internals._chanMgr?.add !== 'function' || typeof internals._protocol?.session !== 'function') return resolve(undefined)
    const opened: OpenCallback = (error, channel) => resolve(error ? undefined : channel)
    opened.type = 'session'
    try {
      const localId = internals._chanMgr.add(opened)
      if (localId === -1) return resolve(undefined)
      internals._protocol.session(localId, MAX_WINDOW, PACKET_SIZE)
    } catch {
      resolve(undefined)
    }
  })
}

/**
 * Asks for `command` on a session opened ahead. `started` is called once the server has started
 * it, or with an error when it could not (the session closed meanwhile, the request refused),
 * synchronously as ssh2's exec calls back: the exit status may arrive in the same read, so the
 * caller's listeners must be on the channel before this call returns.
 */
export function execOnSession(client: Client, channel: ClientChannel, command: string, started: (error?: Error) => void): void {
  const internals = channel as unknown as ChannelInternals
  if (internals.outgoing.state !== 'open') return started(new Error('Channel is not open'))
  let settled = false
  const settle = (error?: Error) => {
    if (settled) return
    settled = true
    channel.removeListener('close', closedFirst)
    started(error)
  }
  // A session that closes as the request goes out never answers it, and ssh2 calls no pending
  // callback on close.
  const closedFirst = () => settle(new Error('the session closed before the command started'))
  channel.once('close', closedFirst)
  internals._callbacks.push((failed) => {
    if (failed) return settle(new Error('Unable to exec'))
    internals.subtype = 'exec'
    internals.allowHalfOpen = true
    settle()
  })
  ;(client as unknown as ClientInternals)._protocol.exec(internals.outgoing.id, command, true)
}
