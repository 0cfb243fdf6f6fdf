import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { SshConnection } from '../../src/remote/ssh-connection'
import { commandsLogOf, HARNESS, harnessDown, harnessUp, type HarnessState } from './support/harness'

// Each command on a connection goes on a session channel opened ahead of it (src/remote/session-ahead.ts):
// on a real sshd, the command is asked for without waiting for a channel to open, output, exit status and
// stdin are as on a fresh channel, side by side commands each get one, sshd runs nothing for a
// session that is only open, and a server that refuses one (MaxSessions) still runs every command.
const HOST = '10.213.0.11'
let harness: HarnessState

beforeAll(() => {
  harness = harnessUp(1)
})

afterAll(() => {
  harnessDown()
})

async function connect(debug: string[]): Promise<SshConnection> {
  return SshConnection.open({ host: HOST, port: 22, user: 'root' }, { privateKeys: [fs.readFileSync(harness.privateKey, 'utf8')], debug: (line) => debug.push(line) })
}

/** The protocol lines from a marker to the CHANNEL_REQUEST that asks for `command`. */
function linesBefore(debug: string[], marker: string, command: string): string[] {
  const from = debug.indexOf(marker)
  const to = debug.findIndex((line, index) => index > from && line.includes(`exec: ${command})`))
  expect(from).toBeGreaterThanOrEqual(0)
  expect(to).toBeGreaterThan(from)
  return debug.slice(from, to)
}

test('commands run on sessions opened ahead: asked for without waiting for a channel to open, same results', async () => {
  const debug: string[] = []
  const connection = await connect(debug)
  try {
    const first = await connection.exec('echo one')
    expect(first).toEqual({ code: 0, stdout: 'one\n', stderr: '' })
    for (const [index, command] of ['echo two; echo oops >&2; exit 3', 'cat', 'echo four'].entries()) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      const marker = `--- command ${index}`
      debug.push(marker)
      const result = await connection.exec(command, command === 'cat' ? { stdin: 'from stdin\n' } : {})
      // the session was open already: the command was asked for without waiting for a channel's confirmation
      // (the CHANNEL_OPEN sent meanwhile is the next session ahead)
      const before = linesBefore(debug, marker, command)
      expect(before.filter((line) => line.includes('CHANNEL_OPEN_CONFIRMATION'))).toEqual([])
      expect(before.filter((line) => line.includes('Sending CHANNEL_OPEN ('))).toHaveLength(1)
      if (index === 0) expect(result).toEqual({ code: 3, stdout: 'two\n', stderr: 'oops\n' })
      if (index === 1) expect(result).toEqual({ code: 0, stdout: 'from stdin\n', stderr: '' })
      if (index === 2) expect(result).toEqual({ code: 0, stdout: 'four\n', stderr: '' })
    }
    // side by side: each command still gets its own session
    const together = await Promise.all(['echo a', 'echo b', 'echo c', 'echo d'].map((command) => connection.exec(command)))
    expect(together.map((result) => result.stdout)).toEqual(['a\n', 'b\n', 'c\n', 'd\n'])
  } finally {
    connection.close()
  }
})

test('a session only opened runs nothing on the host: the commands log holds exactly the commands asked for', async () => {
  const log = commandsLogOf(HOST)
  const before = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).length
  const connection = await connect([])
  try {
    await connection.exec('echo marker-1')
    await connection.exec('echo marker-2')
    // the next session is open now, and stays unused
    await new Promise((resolve) => setTimeout(resolve, 200))
  } finally {
    connection.close()
  }
  const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).slice(before)
  expect(lines.map((line) => line.split('\t')[1])).toEqual(['echo marker-1', 'echo marker-2'])
})

test("over a slow link, where a short command's whole answer comes in one read, its exit status is kept", async () => {
  // scripts/latency-relay.js holds every chunk 20 ms each way: the server's success, output, exit status and close arrive together
  const relay = `${process.execPath} ${path.resolve(__dirname, '../../scripts/latency-relay.js')} ${HOST} 22 20`
  const privateKeys = [fs.readFileSync(harness.privateKey, 'utf8')]
  const connection = await SshConnection.open({ host: HOST, port: 22, user: 'root' }, { privateKeys, plan: (endpoint) => ({ target: { ...endpoint, privateKeys }, route: { kind: 'command', command: relay } }) })
  try {
    const codes = [0, 7, 0, 1, 42]
    for (const code of codes) expect(await connection.exec(`echo ${code}; exit ${code}`)).toEqual({ code, stdout: `${code}\n`, stderr: '' })
    const together = await Promise.all(codes.map((code) => connection.exec(`exit ${code}`)))
    expect(together.map((result) => result.code)).toEqual(codes)
  } finally {
    connection.close()
  }
})

test('a server that allows two sessions at a time (MaxSessions 2) refuses the session ahead: every command runs all the same', async () => {
  // a second sshd on host1, its config the harness's but for the port, the pid file and MaxSessions
  const directory = path.dirname(commandsLogOf(HOST))
  const config = fs
    .readFileSync(path.join(directory, 'sshd_config'), 'utf8')
    .replace(/^ListenAddress .*$/m, `ListenAddress ${HOST}:2222`)
    .replace(/^PidFile .*$/m, `PidFile ${directory}/sshd-two-sessions.pid`)
    .replace(/^MaxSessions .*$/m, 'MaxSessions 2')
  expect(config).toContain('MaxSessions 2')
  fs.writeFileSync(path.join(directory, 'sshd-two-sessions_config'), config)
  execFileSync(path.join(HARNESS, 'host-exec.sh'), ['host1', '/usr/sbin/sshd', '-f', path.join(directory, 'sshd-two-sessions_config'), '-E', path.join(directory, 'sshd-two-sessions.log')])
  const debug: string[] = []
  const connection = await SshConnection.open({ host: HOST, port: 2222, user: 'root' }, { privateKeys: [fs.readFileSync(harness.privateKey, 'utf8')], debug: (line) => debug.push(line) })
  try {
    // one session busy, one taking a command: the session ahead behind them is refused
    const busy = connection.exec('sleep 0.5; echo slept')
    expect(await connection.exec('echo beside')).toEqual({ code: 0, stdout: 'beside\n', stderr: '' })
    expect(await busy).toEqual({ code: 0, stdout: 'slept\n', stderr: '' })
    expect(debug.some((line) => /CHANNEL_OPEN_FAILURE/.test(line))).toBe(true)
    // (sshd frees a session once it has reaped its command: a moment after the channel closes)
    await new Promise((resolve) => setTimeout(resolve, 200))
    for (const word of ['one', 'two', 'three']) expect(await connection.exec(`echo ${word}`)).toEqual({ code: 0, stdout: `${word}\n`, stderr: '' })
    expect(await connection.exec('cat', { stdin: 'in\n' })).toEqual({ code: 0, stdout: 'in\n', stderr: '' })
  } finally {
    connection.close()
    execFileSync(path.join(HARNESS, 'host-exec.sh'), ['host1', 'sh', '-c', `kill $(cat ${directory}/sshd-two-sessions.pid)`])
  }
})
