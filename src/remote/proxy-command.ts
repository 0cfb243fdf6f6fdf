import { spawn } from 'node:child_process'
import { Duplex } from 'node:stream'

/**
 * Net::SSH::Proxy::Command's substitution: `%h` host, `%p` port, `%r` remote user (only when
 * one is given; Kamal gives none), `%%` a percent sign. Any other `%x` is an error, as there.
 */
export function substituteProxyCommand(template: string, values: { host: string; port: number; user?: string }): string {
  return template.replace(/%(.)/gs, (_, token: string) => {
    if (token === 'h') return values.host
    if (token === 'p') return String(values.port)
    if (token === '%') return '%'
    if (token === 'r' && values.user !== undefined) return values.user
    throw new Error(token === 'r' ? 'remote user name not available' : `unknown key: ${token}`)
  })
}

/**
 * Runs the proxy command with `sh -c` and gives its stdin/stdout as one stream, the socket
 * the SSH session runs over. Its stderr is kept (the tail) to explain a failure.
 */
export function openProxyCommand(command: string): { stream: Duplex; stderrTail: () => string; kill: () => void } {
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)))
  const stream = new Duplex({
    read() {
      child.stdout.resume()
    },
    write(chunk: Buffer, _encoding, done) {
      if (!child.stdin.writable) return done(new Error(`the proxy command ended: ${command}`))
      child.stdin.write(chunk, done)
    },
    final(done) {
      child.stdin.end()
      done()
    },
    destroy(error, done) {
      if (child.exitCode === null) child.kill('SIGTERM')
      done(error)
    },
  })
  child.stdout.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) child.stdout.pause()
  })
  child.stdout.on('end', () => stream.push(null))
  child.stdin.on('error', () => undefined) // EPIPE after the command exits; reported through 'exit'
  child.on('error', (error) => stream.destroy(new Error(`cannot start the proxy command ${command}: ${error.message}`)))
  child.on('exit', (code, signal) => {
    const why = signal ? `was killed by ${signal}` : `exited with status ${code}`
    const tail = stderr.trim()
    // Let buffered output reach the SSH client first; an early exit then surfaces as the client's error.
    setImmediate(() => stream.destroy(new Error(`the proxy command ${why}: ${command}${tail ? `\n${tail}` : ''}`)))
  })
  return { stream, stderrTail: () => stderr.trim(), kill: () => child.exitCode === null && child.kill('SIGTERM') }
}
