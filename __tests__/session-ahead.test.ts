import { EventEmitter } from 'node:events'
import type { Client, ClientChannel } from 'ssh2'
import { execOnSession } from '../src/remote/session-ahead'

// The one path of execOnSession a real sshd cannot be made to take on demand: the session closes
// after the command was asked for and before the server answered (ssh2 calls no pending callback
// then). The rest runs against a real sshd in __tests__/e2e/session-ahead.test.ts.
function fakeSession() {
  const sent: Array<{ id: number; command: string }> = []
  const channel = Object.assign(new EventEmitter(), { outgoing: { id: 7, state: 'open' }, _callbacks: [] as Array<(failed: boolean) => void> })
  const client = { _protocol: { exec: (id: number, command: string) => sent.push({ id, command }) } }
  return { channel, client, sent, asChannel: channel as unknown as ClientChannel, asClient: client as unknown as Client }
}

test('the server answers: started without an error, once, and the channel is an exec channel', () => {
  const session = fakeSession()
  const calls: Array<Error | undefined> = []
  execOnSession(session.asClient, session.asChannel, 'echo hi', (error) => calls.push(error))
  expect(session.sent).toEqual([{ id: 7, command: 'echo hi' }])
  session.channel._callbacks.shift()!(false)
  session.channel.emit('close')
  expect(calls).toEqual([undefined])
  expect(session.channel).toMatchObject({ subtype: 'exec', allowHalfOpen: true })
  expect(session.channel.listenerCount('close')).toBe(0)
})

test('the server refuses the command: an error, once', () => {
  const session = fakeSession()
  const calls: Array<Error | undefined> = []
  execOnSession(session.asClient, session.asChannel, 'echo hi', (error) => calls.push(error))
  session.channel._callbacks.shift()!(true)
  expect(calls.map((error) => error?.message)).toEqual(['Unable to exec'])
})

test('the session closes before the answer: an error at once, not a wait for an answer that never comes', () => {
  const session = fakeSession()
  const calls: Array<Error | undefined> = []
  execOnSession(session.asClient, session.asChannel, 'echo hi', (error) => calls.push(error))
  session.channel.emit('close')
  expect(calls.map((error) => error?.message)).toEqual(['the session closed before the command started'])
  // an answer after all changes nothing
  session.channel._callbacks.shift()?.(false)
  expect(calls).toHaveLength(1)
})

test('a session already closed is not asked at all', () => {
  const session = fakeSession()
  session.channel.outgoing.state = 'closed'
  const calls: Array<Error | undefined> = []
  execOnSession(session.asClient, session.asChannel, 'echo hi', (error) => calls.push(error))
  expect(session.sent).toEqual([])
  expect(calls.map((error) => error?.message)).toEqual(['Channel is not open'])
})
