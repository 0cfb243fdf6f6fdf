import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { RecordEntry } from '../../src/execute/record'
import { checkRecordAgainstPlan } from '../../src/plan/conformance'
import type { Plan } from '../../src/plan/steps'
import { startAction, type ActionRun } from '../support/run-action'
import { AppProject, appFiles } from './support/app-project'
import { HARNESS_REGISTRY_AND_BUILDER, harnessDown, harnessUp, loggedCommands, type HarnessState } from './support/harness'

// What ran equals what was planned, checked from outside the action: each host's sshd logs every
// command it is asked to run (harness ForceCommand), and a `docker` shim first on PATH logs every
// docker argv on the runner. Both must equal the record, and the record must follow the plan.
const WEB = ['10.213.0.11', '10.213.0.12']
const WORKER = '10.213.0.13'
const CONFIG = `service: conform
image: e2e/conform
servers:
  web: [${WEB.join(', ')}]
  workers:
    hosts: [${WORKER}]
    cmd: sh -c 'while true; do sleep 1; done'
proxy:
  host: conform.test
  healthcheck: { path: /up, interval: 1, timeout: 2 }
${HARNESS_REGISTRY_AND_BUILDER}  args:
    COMMIT: abc
accessories:
  cache:
    image: busybox:harness
    host: ${WORKER}
    cmd: sh -c 'while true; do sleep 1; done'
    env:
      secret: [CACHE_TOKEN]
deploy_timeout: 10
drain_timeout: 2
readiness_delay: 1
`

let harness: HarnessState
let project: AppProject
let shimDir: string
const SHIM_LOG = () => path.join(shimDir, 'docker-argv.log')

/** A `docker` first on PATH that logs its argv (fields split by \x1f) and runs the real one. */
function installDockerShim(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-shim-'))
  const real = ['/usr/local/bin/docker', '/usr/bin/docker'].find((candidate) => fs.existsSync(candidate))
  fs.writeFileSync(path.join(dir, 'docker'), `#!/bin/sh\n{ first=1; for a in "$@"; do if [ $first = 1 ]; then printf '%s' "$a"; first=0; else printf '\\037%s' "$a"; fi; done; printf '\\n'; } >> ${path.join(dir, 'docker-argv.log')}\nexec ${real} "$@"\n`, { mode: 0o755 })
  return dir
}

async function act(inputs: Record<string, string>): Promise<ActionRun> {
  const run = await startAction(
    project.dir,
    {
      'ssh-private-key': fs.readFileSync(harness.privateKey, 'utf8'),
      'ssh-known-hosts': fs.readFileSync(harness.knownHosts, 'utf8'),
      secrets: 'KAMAL_REGISTRY_PASSWORD=pw\nCACHE_TOKEN=cache-secret',
      ...inputs,
    },
    { DOCKER_HOST: harness.runner.dockerHost, PATH: `${shimDir}:${process.env.PATH}` },
  ).finished
  if (run.status !== 0) process.stdout.write(`${inputs.command} ${inputs.version} (exit ${run.status}):\n${run.stdout.slice(-5000)}\n`)
  return run
}

const logLines = (host: string) => loggedCommands(host).map((item) => item.command)

interface Marks {
  hosts: Record<string, number>
  shim: number
}
const mark = (): Marks => ({ hosts: Object.fromEntries([...WEB, WORKER].map((host) => [host, logLines(host).length])), shim: fs.existsSync(SHIM_LOG()) ? fs.readFileSync(SHIM_LOG(), 'utf8').split('\n').filter(Boolean).length : 0 })

function checkRun(run: ActionRun, before: Marks): void {
  const plan = JSON.parse(fs.readFileSync(run.outputs.plan, 'utf8')) as Plan
  const record = JSON.parse(fs.readFileSync(run.outputs.record, 'utf8')) as RecordEntry[]
  expect(checkRecordAgainstPlan(plan, record)).toEqual([])

  for (const host of [...WEB, WORKER]) {
    const asked = logLines(host).slice(before.hosts[host])
    const recorded = record
      .filter((entry) => entry.place === host && entry.kind !== 'connect' && entry.kind !== 'barrier-wait')
      .sort((a, b) => a.startedAt - b.startedAt)
    expect(asked).toHaveLength(recorded.length)
    // Independent work on one host runs side by side, so two commands may reach sshd in either
    // order: each asked command matches one recorded entry (the record's own order is checked
    // against the plan above).
    const unmatched = [...asked]
    for (const entry of recorded) {
      const upload = entry.kind === 'upload' ? entry.command.replace(/^(?:mkdir -p \S+ && )?upload (\S+) .*$/, '$1') : undefined
      const index = unmatched.findIndex((line) => (upload ? line.includes(upload) : line === entry.command))
      expect(index >= 0 ? entry.command : `not asked: ${entry.command}`).toBe(entry.command)
      unmatched.splice(index, 1)
    }
    expect(unmatched).toEqual([])
  }

  const shim = fs.readFileSync(SHIM_LOG(), 'utf8').split('\n').filter(Boolean).slice(before.shim).map((line) => line.split('\x1f'))
  const planned = record.filter((entry) => entry.place === 'local' && entry.argv?.[0] === 'docker').map((entry) => entry.argv!.slice(1))
  // The runner's docker gets exactly the planned commands, in order, besides read-only probes made before planning.
  const probes = shim.filter((argv) => !planned.some((item) => JSON.stringify(item) === JSON.stringify(argv)))
  expect(probes.every((argv) => ['--version', 'version', 'info', 'buildx', 'context', 'inspect', 'image'].includes(argv[0]) && !['build', 'push', 'create', 'rm'].some((verb) => argv.includes(verb)))).toBe(true)
  expect(shim.filter((argv) => planned.some((item) => JSON.stringify(item) === JSON.stringify(argv)))).toEqual(planned)
  expect(planned.length).toBeGreaterThan(0)
}

beforeAll(() => {
  harness = harnessUp(3)
  shimDir = installDockerShim()
  project = new AppProject({ 'config/deploy.yml': CONFIG, ...appFiles('v1') })
}, 180_000)

afterAll(() => {
  if (!process.env.KEEP_HARNESS) harnessDown()
}, 60_000)

describe('what ran equals the plan, seen from the hosts and the runner', () => {
  test('setup (bootstrap, proxy, accessory, boot) of v1', async () => {
    const before = mark()
    const run = await act({ command: 'setup', version: 'v1' })
    expect(run.status).toBe(0)
    checkRun(run, before)
  }, 240_000)

  test('deploy of v2 (stale check, old version stopped, prune)', async () => {
    project.write(appFiles('v2'))
    project.commit('v2')
    const before = mark()
    const run = await act({ command: 'deploy', version: 'v2' })
    expect(run.status).toBe(0)
    checkRun(run, before)
  }, 240_000)

  test('a failing deploy of v3: the failure path is in the plan too', async () => {
    project.write(appFiles('v3', { healthy: false }))
    project.commit('v3')
    const before = mark()
    const run = await act({ command: 'deploy', version: 'v3' })
    expect(run.status).toBe(1)
    checkRun(run, before)
  }, 240_000)
})
