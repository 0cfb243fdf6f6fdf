import { RUNNER } from '../../src/plan/steps'
import { MAX_PHASE_COLUMNS } from '../../src/report/phases'
import { deploySummaryMarkdown, summaryOutputs, type RunFacts } from '../../src/report/summary'
import { entryLine } from '../../src/report/what-ran'
import { manyHosts, PREVIOUS, REGISTRY_FREE, SECRET, SHA, simulate, THREE_HOSTS, type Scenario } from './simulate'

const FAIL_WEB_ON_VM1: Scenario['fail'] = {
  host: 'vm1',
  role: 'web',
  label: 'kamal-proxy deploy',
  stderr: 'Error: target failed to become healthy within configured timeout (30s)',
  logTail: 'Puma starting in single mode...\nActiveRecord::ConnectionNotEstablished: connection to server at "db" failed',
}

const success = simulate({ yaml: THREE_HOSTS, destination: 'production' })
const failed = simulate({ yaml: THREE_HOSTS, destination: 'production', fail: FAIL_WEB_ON_VM1 })
const cancelled = simulate({ yaml: THREE_HOSTS, destination: 'production', cancelAt: 'Boot app' })
const registryFree = simulate({ yaml: REGISTRY_FREE })
const twenty = simulate({ yaml: manyHosts(20, { jobs: 4 }) })
const CASES: Record<string, RunFacts> = { success, failed, cancelled, registryFree, twenty }

const section = (markdown: string, title: string) => {
  const start = markdown.indexOf(`### ${title}`)
  if (start < 0) return ''
  const next = markdown.indexOf('\n### ', start + 4)
  return markdown.slice(start, next < 0 ? undefined : next)
}
const firstScreen = (markdown: string) => markdown.slice(0, markdown.indexOf('\n### '))
const mermaidBars = (markdown: string) =>
  [...markdown.matchAll(/^ {2}.+ :(?:done, |crit, )?(\d+), (\d+)$/gm)].map((match) => ({ from: Number(match[1]), to: Number(match[2]) }))

describe('the first screen', () => {
  const top = firstScreen(deploySummaryMarkdown(success))

  test('links the app on each proxy host, https when the proxy terminates TLS', () => {
    expect(top).toContain('**App:** [shop.example.com](https://shop.example.com)')
    expect(firstScreen(deploySummaryMarkdown(registryFree))).toContain('[shop.example.com](http://shop.example.com)')
    const both = firstScreen(deploySummaryMarkdown(twenty))
    expect(both).toContain('[shop.example.com](https://shop.example.com) · [www.shop.example.com](https://www.shop.example.com)')
  })

  test('links the run’s commit (GITHUB_SHA) by its short SHA, never from build args', () => {
    expect(top).toContain(`**Commit:** [\`${SHA.slice(0, 7)}\`](https://github.com/acme/shop/commit/${SHA})`)
    const other = 'fedcba9876543210fedcba9876543210fedcba98'
    const enterprise = simulate({ yaml: THREE_HOSTS, version: 'v42', env: { GITHUB_SERVER_URL: 'https://git.corp.example', GITHUB_REPOSITORY: 'ops/shop', GITHUB_SHA: other } })
    expect(deploySummaryMarkdown(enterprise)).toContain(`[\`fedcba9\`](https://git.corp.example/ops/shop/commit/${other})`)
    expect(deploySummaryMarkdown(simulate({ yaml: THREE_HOSTS, env: {} }))).not.toContain('**Commit:**')
  })

  test('links the changes from the version each host ran before', () => {
    expect(top).toContain(`**changes:** [\`${PREVIOUS.slice(0, 7)}…${SHA.slice(0, 7)}\`](https://github.com/acme/shop/compare/${PREVIOUS}...${SHA})`)
    const older = '1111111aaaaaaa2222222bbbbbbb3333333ccccc'
    const mixed = firstScreen(deploySummaryMarkdown(simulate({ yaml: THREE_HOSTS, previous: (host) => (host === 'vm3' ? older : host === 'vm2' ? undefined : PREVIOUS) })))
    expect(mixed).toContain(`(https://github.com/acme/shop/compare/${PREVIOUS}...${SHA}) (vm1)`)
    expect(mixed).toContain(`(https://github.com/acme/shop/compare/${older}...${SHA}) (vm3)`)
    expect(mixed).toContain('first deploy (vm2)')
  })

  test('names who deployed, the destination and the GitHub environment', () => {
    expect(top).toContain('**By** @octocat · **destination** `production` · **environment** `production`')
    expect(top.split('\n')[0]).toMatch(/^## ✅ deploy `shop` → `production` succeeded in \d+\.\ds$/)
  })

  test('on failure: the failing host and role, the cause in one sentence, what serves now, the next step', () => {
    const text = firstScreen(deploySummaryMarkdown(failed))
    expect(text.split('\n')[0]).toMatch(/^## ❌ deploy `shop` → `production` failed in/)
    expect(text).toContain('**Failed on `vm1` (web):** `kamal-proxy deploy` exited with status 1: Error: target failed to become healthy within configured timeout (30s)')
    expect(text).toContain(`**Serving now:** vm1 web, vm3 jobs: \`${PREVIOUS.slice(0, 7)}\` (as before) · vm2 web: \`${SHA.slice(0, 7)}\` (new).`)
    expect(text).toContain(`\`command: rollback\` and \`version: ${PREVIOUS}\``)
    expect(text).toMatch(/\*\*Next:\*\* Fix the app \(its log tail is below\) and deploy again/)
  })

  test('a cancelled run says so, what serves now, and what to do', () => {
    const text = firstScreen(deploySummaryMarkdown(cancelled))
    expect(text.split('\n')[0]).toMatch(/^## ⏹️ deploy `shop` → `production` was cancelled in/)
    expect(text).toContain('**Cancelled:** The job was cancelled')
    expect(text).toContain('**Serving now:** Every host serves what it served before')
    expect(text).toContain('**Next:** Re-run the job')
  })

  test('a registry-free deploy shows what the runner sent to each host', () => {
    expect(firstScreen(deploySummaryMarkdown(registryFree))).toMatch(/\*\*Image transfer \(registry-free, over SSH\):\*\* vm1 ← [\d.]+ MiB · vm2 ← [\d.]+ MiB/)
  })
})

describe('the host rows', () => {
  const rowsOf = (markdown: string) => section(markdown, 'Hosts').split('\n').filter((line) => /^\| (?!Host|---)/.test(line))

  test('one per host × role, the primary host first and marked, roles and hosts in config order', () => {
    const yaml = THREE_HOSTS.replace('  web: [vm1, vm2]\n  jobs: { hosts: [vm3], cmd: bin/jobs }', '  jobs: { hosts: [vm3, vm2], cmd: bin/jobs }\n  web: [vm2, vm1]')
    const rows = rowsOf(deploySummaryMarkdown(simulate({ yaml })))
    expect(rows.map((row) => row.split(' | ').slice(0, 2).join(' | '))).toEqual(['| vm2 ★ | web', '| vm1 | web', '| vm3 | jobs', '| vm2 | jobs'])
  })

  test('before → after, time to healthy, old container, and a total that shows the barrier wait', () => {
    const [vm1, , vm3] = rowsOf(deploySummaryMarkdown(success))
    expect(vm1).toMatch(new RegExp(`^\\| vm1 ★ \\| web \\| ${PREVIOUS.slice(0, 7)} → ${SHA.slice(0, 7)} \\| ✅ \\d\\.\\ds \\| stopped \\| \\d\\.\\ds \\|$`))
    expect(vm3).toMatch(/\| jobs \| .* \| ✅ \d\.\ds \| stopped \| \d\.\ds, \d\.\ds wait \|$/)
  })

  test('a failed boot, and roles held back by it, keep their old container and show the log tail', () => {
    const markdown = deploySummaryMarkdown(failed)
    const rows = rowsOf(markdown)
    expect(rows[0]).toContain('| ❌ failed | kept, serving |')
    expect(rows[2]).toContain('| ⏸️ held back | kept, serving |')
    expect(markdown).toContain('<details><summary>❌ vm1 (web): error and log tail</summary>')
    expect(markdown).toContain('ActiveRecord::ConnectionNotEstablished')
  })
})

describe('phases and timeline', () => {
  test.each(Object.entries(CASES))('%s: the per-host view has no column past the limit, and says n/a rather than a dash', (_, facts) => {
    const table = section(deploySummaryMarkdown(facts), 'Time per host')
    const header = table.split('\n').find((line) => line.startsWith('| Host'))!
    expect(header.split('|').length - 2).toBeLessThanOrEqual(1 + MAX_PHASE_COLUMNS)
    expect(table).toContain('n/a')
    expect(table).not.toMatch(/\| — \|/)
  })

  test.each(Object.entries(CASES))('%s: the total in the headline is the timeline’s span, and the duration output agrees', (_, facts) => {
    const markdown = deploySummaryMarkdown(facts)
    const bars = mermaidBars(markdown)
    expect(Math.min(...bars.map((bar) => bar.from))).toBe(0)
    const span = (Math.max(...bars.map((bar) => bar.to)) / 1000).toFixed(1)
    expect(markdown.split('\n')[0]).toMatch(new RegExp(` in ${span}s$`))
    expect(summaryOutputs(facts).duration).toBe(span)
  })

  test('ticks from 00:00, at most eight of them, no label twice', () => {
    const markdown = deploySummaryMarkdown(success)
    const span = Math.max(...mermaidBars(markdown).map((bar) => bar.to)) / 1000
    const [, count, unit] = /tickInterval (\d+)(second|minute)/.exec(markdown)!
    expect(span / (Number(count) * (unit === 'minute' ? 60 : 1))).toBeLessThanOrEqual(8)
    expect(markdown).toContain('axisFormat %M:%S')
  })

  test('waits are drawn as waits and say what they waited for: the build, the barrier, another host', () => {
    const markdown = deploySummaryMarkdown(success)
    const waits = section(markdown, 'Timeline')
    expect(waits).toMatch(/vm1, vm2, vm3 waited up to \d\.\ds for the runner \(Build and push\)/)
    expect(waits).toMatch(/vm3 waited \d\.\ds for the first healthy web/)
    // Per-host pipelines: the web hosts tag and prune without waiting for the worker host's boot.
    expect(waits).not.toMatch(/waited .* for vm3 \(Boot app jobs\)/)
    expect(markdown).toMatch(/^ {2}.+ :done, \d+, \d+$/m)
  })

  test('a few bars per place: one row each, and one bar per stage past thirty places', () => {
    const bars = mermaidBars(deploySummaryMarkdown(success))
    // Per-host pipelines put a few short stages side by side on each host: more, shorter bars.
    expect(bars.length).toBeLessThan(34)
    const many = deploySummaryMarkdown(simulate({ yaml: manyHosts(40, { jobs: 5 }) }))
    const gantt = many.slice(many.indexOf('```mermaid'), many.indexOf('```', many.indexOf('```mermaid') + 3))
    expect(gantt).toContain('Boot app · 40 hosts')
    expect(mermaidBars(many).length).toBeLessThan(20)
  })
})

describe('what ran', () => {
  /** The command lines of each place's block, in order. */
  const ranLines = (markdown: string, stageHeaders: Set<string>) => {
    const blocks = [...section(markdown, 'What ran').matchAll(/<summary>(?:❌ )?(\S+?)(?: \(failed steps only\))?: [^<]*<\/summary>\n\n```sh\n([\s\S]*?)\n```/g)]
    return new Map(blocks.map(([, place, body]) => [place === 'runner' ? RUNNER : place, body.split('\n').filter((line) => line && !stageHeaders.has(line))]))
  }

  test.each(Object.entries(CASES))('%s: equals the record of the executed steps, per place, with exit and duration', (_, facts) => {
    const shown = ranLines(deploySummaryMarkdown(facts), new Set(facts.record.map((entry) => `# ${entry.stage}`)))
    const places = [...new Set(facts.record.map((entry) => entry.place))]
    expect([...shown.keys()].sort()).toEqual(places.sort())
    for (const place of places) {
      const expected = facts.record.filter((entry) => entry.place === place).map((entry) => entryLine(entry, facts.redact))
      expect(shown.get(place)).toEqual(expected)
    }
  })

  test('shows no step that did not run, and never the plan’s “nothing was run” text', () => {
    const markdown = deploySummaryMarkdown(failed)
    const ran = section(markdown, 'What ran')
    expect(ran).not.toContain('Nothing was run')
    expect(ran).not.toContain('# Prune')
    expect(ran).toContain('# Release deploy lock')
    expect(ran).toMatch(/kamal-proxy deploy .*# exit 1, FAILED · \d\.\ds/)
  })
})

describe('outputs', () => {
  test('commit, previous version and failed hosts (not those only held back)', () => {
    expect(summaryOutputs(success)).toMatchObject({ commit: SHA, 'previous-version': PREVIOUS, 'failed-hosts': '' })
    expect(summaryOutputs(failed)).toMatchObject({ 'failed-hosts': 'vm1' })
    expect(summaryOutputs(simulate({ yaml: THREE_HOSTS, previous: () => undefined }))['previous-version']).toBe('')
  })
})

describe('bounds and secrets', () => {
  test('400 hosts stay under GitHub’s 1 MiB limit with the first screen, every failure and a pointer to the record', () => {
    const facts = simulate({ yaml: manyHosts(400, { jobs: 40 }), fail: { host: 'web-77.example.com', role: 'web', label: 'kamal-proxy deploy', stderr: 'unhealthy' } })
    const markdown = deploySummaryMarkdown(facts)
    expect(Buffer.byteLength(markdown)).toBeLessThan(1024 * 1024)
    expect(markdown).toContain('**Failed on `web-77.example.com` (web):**')
    expect(markdown).toContain('| web-77.example.com | web |')
    expect(markdown).toMatch(/more rows/)
    expect(markdown).toContain('the `record` output (JSON) has every step')
    expect(markdown).toContain('web-77.example.com')
    expect(markdown).not.toContain('summary truncated')
  })

  test.each(Object.entries(CASES))('%s: no secret in the summary (the build arg stays redacted)', (_, facts) => {
    const markdown = deploySummaryMarkdown(facts)
    expect(markdown).not.toContain(SECRET)
  })
})

test('a runner step stopped because the run failed reads as stopped in What ran, with its time', () => {
  const line = entryLine({ step: 3, stage: 'Build and push', place: 'local', kind: 'runner', command: 'docker build -t app:v2 .', outcome: 'stopped', startedAt: 1000, endedAt: 1400 }, (text) => text)
  expect(line).toMatch(/^docker build -t app:v2 \. {2}# stopped: the run failed or was cancelled · 0\.4 ?s$/)
})
