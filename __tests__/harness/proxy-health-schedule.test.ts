import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

// The kamal-proxy stand-in health-checks on the real proxy's schedule (kamal-proxy's
// HealthCheck: a check at once, then one per interval tick, each bounded by its timeout,
// all within the deploy timeout), so the harness's deploy times carry over to real servers.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Target } = require('../../harness/kamal-proxy/lib/server.js') as { Target: new (address: string) => { waitHealthy: (opts: Record<string, unknown>, deadline: number) => Promise<string | null> } }

const OPTIONS = { 'health-check-path': '/up', 'health-check-interval': 300, 'health-check-timeout': 200, 'health-check-port': 0 }

async function serve(answer: (index: number) => number | 'hang'): Promise<{ port: number; times: number[]; close: () => Promise<void> }> {
  const times: number[] = []
  const server = http.createServer((_, response) => {
    const reply = answer(times.length)
    times.push(Date.now())
    if (reply !== 'hang') response.writeHead(reply).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, times, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }) }
}

test('a check at once, then one per interval until the first success', async () => {
  const server = await serve((index) => (index < 2 ? 503 : 200))
  const started = Date.now()
  const result = await new Target(`127.0.0.1:${server.port}`).waitHealthy(OPTIONS, started + 5000)
  await server.close()
  expect(result).toBeNull()
  expect(server.times).toHaveLength(3)
  expect(server.times[0] - started).toBeLessThan(100)
  for (const gap of [server.times[1] - server.times[0], server.times[2] - server.times[1]]) {
    expect(gap).toBeGreaterThanOrEqual(280)
    expect(gap).toBeLessThan(400)
  }
})

test('a check that hangs ends at its timeout; the next starts on the next tick; the deploy timeout ends the wait', async () => {
  const server = await serve(() => 'hang')
  const started = Date.now()
  const result = await new Target(`127.0.0.1:${server.port}`).waitHealthy(OPTIONS, started + 1000)
  const ended = Date.now()
  await server.close()
  expect(result).toMatch(/timed out|timeout/)
  expect(ended - started).toBeGreaterThanOrEqual(950)
  expect(ended - started).toBeLessThan(1300)
  // ticks at 0, 300, 600, 900 ms
  expect(server.times.length).toBeGreaterThanOrEqual(3)
  expect(server.times.length).toBeLessThanOrEqual(4)
  expect(server.times[1] - server.times[0]).toBeGreaterThanOrEqual(280)
  expect(server.times[1] - server.times[0]).toBeLessThan(400)
})
