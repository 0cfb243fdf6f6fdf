import type { BootOutcome } from '../src/deploy/request'
import type { PhaseRecord } from '../src/deploy/progress'
import { deploySummaryMarkdown, type DeploySummary } from '../src/report/summary'

const SECRET = 'summary-secret-value-8841'
const PHASES = ['Pull image', 'Prepare', 'Boot app', 'Tag latest image', 'Prune']

function simulated(hostCount: number, { failHost }: { failHost?: string } = {}): DeploySummary {
  const hosts = Array.from({ length: hostCount }, (_, index) => `web-${String(index + 1).padStart(2, '0')}.example.com`)
  const boots: BootOutcome[] = hosts.flatMap((host) =>
    ['web', 'jobs'].map((role) => ({
      host,
      role,
      previousVersion: 'v41',
      version: 'v42',
      container: `shop-${role}-v42`,
      ok: host !== failHost,
      healthSeconds: 2.5,
      error: host === failHost ? `Failed to boot ${role} on ${host}: health check failed\nLast log lines of the new container:\nDATABASE_URL=${SECRET} is wrong\n${'x'.repeat(200_000)}` : undefined,
    })),
  )
  let clock = 1_700_000_000_000
  const phases: PhaseRecord[] = hosts.flatMap((host) =>
    PHASES.map((phase) => {
      const startedAt = clock
      clock += 700
      return { host, phase, role: phase === 'Boot app' ? 'web' : undefined, startedAt, endedAt: startedAt + 650, ok: !(host === failHost && phase === 'Boot app') }
    }),
  )
  return {
    command: 'deploy',
    service: 'shop',
    destination: 'production',
    version: 'v42',
    image: 'registry.example.com/shop:v42',
    result: failHost ? 'failed' : 'success',
    seconds: 83.4,
    boots,
    phases,
    planMarkdown: `\`\`\`sh\n${'docker run … --env-file .kamal/apps/shop/env/roles/web.env\n'.repeat(20_000)}\`\`\``,
    redact: (text) => text.split(SECRET).join('[REDACTED]'),
  }
}

describe('deploy job summary', () => {
  const summary = deploySummaryMarkdown(simulated(50, { failHost: 'web-07.example.com' }))

  test('opens with service, destination, version, result and total time', () => {
    expect(summary.split('\n')[0]).toBe('## ❌ deploy `shop` → `production`: failed')
    expect(summary).toContain('Version `v42` · image `registry.example.com/shop:v42` · 83.4s in total')
  })

  test('has a row per host × role with versions, health time, phase times and result', () => {
    const rows = summary.split('\n').filter((line) => /^\| web-\d\d\.example\.com \| (web|jobs) \|/.test(line))
    expect(rows).toHaveLength(100)
    expect(rows[0]).toBe('| web-01.example.com | web | v41 → v42 | `shop-web-v42` | 2.5s | 0.7s | 0.7s | ✅ ok |')
    expect(rows.filter((row) => row.includes('❌ failed'))).toHaveLength(2)
  })

  test('has a phase table and a Mermaid gantt with every host', () => {
    expect(summary).toContain('| Host | Pull image | Prepare | Boot app | Tag latest image | Prune |')
    const gantt = summary.slice(summary.indexOf('```mermaid'), summary.indexOf('```', summary.indexOf('```mermaid') + 3))
    for (let index = 1; index <= 50; index++) expect(gantt).toContain(`section web-${String(index).padStart(2, '0')}.example.com`)
    expect(gantt).toMatch(/Boot app web :crit, \d+, \d+/)
  })

  test('shows the failure with its log tail, and never the secret', () => {
    expect(summary).toContain('<details><summary>❌ web-07.example.com (web)</summary>')
    expect(summary).toContain('DATABASE_URL=[REDACTED] is wrong')
    expect(summary).not.toContain(SECRET)
  })

  test('stays under GitHub’s 1 MiB step-summary limit, whatever the number of hosts', () => {
    expect(Buffer.byteLength(summary)).toBeLessThan(1024 * 1024)
    const huge = deploySummaryMarkdown(simulated(400))
    expect(Buffer.byteLength(huge)).toBeLessThan(1024 * 1024)
    expect(huge).toContain('more rows')
  })
})
