import * as fs from 'node:fs'
import type { RecordEntry } from '../../src/execute/record'
import { walkPlan, type Plan, type Step } from '../../src/plan/steps'
import { startAction, type ActionRun } from '../support/run-action'
import { AppProject, appFiles } from './support/app-project'
import { dockerOn, HARNESS_REGISTRY_AND_BUILDER, harnessAccess, harnessDown, harnessUp, loggedCommands, onHost, startLoad, type HarnessState } from './support/harness'

// The per-host pipelines under steady load: Kamal's guarantees, seen from the hosts' own sshd logs.
const WEB = ['10.213.0.11', '10.213.0.12']
const WORKER = '10.213.0.13'
const HOST_HEADER = 'fast.test'
const CONFIG = `service: fast
image: e2e/fast
servers:
  web: [${WEB.join(', ')}]
  workers:
    hosts: [${WORKER}]
    cmd: sh -c 'trap "exit 0" TERM; while true; do sleep 1; done'
proxy:
  host: ${HOST_HEADER}
  healthcheck: { path: /up }
${HARNESS_REGISTRY_AND_BUILDER}deploy_timeout: 20
drain_timeout: 3
readiness_delay: 0
retain_containers: 1
`

let harness: HarnessState
let project: AppProject
/** the v2 deploy under load */
let lastDeploy: { plan: Plan; record: RecordEntry[] }

async function deploy(version: string, command = 'deploy'): Promise<{ run: ActionRun; plan: Plan; record: RecordEntry[] }> {
  const access = harnessAccess(harness)
  const run = await startAction(project.dir, { command, version, ...access.inputs, secrets: 'KAMAL_REGISTRY_PASSWORD=pw' }, access.env).finished
  if (run.status !== 0) process.stdout.write(`deploy ${version} (exit ${run.status}):\n${run.stdout.slice(-5000)}\n`)
  return { run, plan: JSON.parse(fs.readFileSync(run.outputs.plan, 'utf8')), record: JSON.parse(fs.readFileSync(run.outputs.record, 'utf8')) }
}

beforeAll(async () => {
  harness = harnessUp(3)
  project = new AppProject({ 'config/deploy.yml': CONFIG, '.kamal/secrets': 'KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD\n', ...appFiles('v1') })
  const first = await deploy('v1')
  expect(first.run.status).toBe(0)
}, 240_000)

afterAll(() => {
  if (!process.env.KEEP_HARNESS) harnessDown()
}, 60_000)

describe('a code-only deploy as per-host pipelines keeps Kamal’s guarantees', () => {
  test('under load: 0 failed requests, changes only under the lock, the worker after a healthy web container, old containers stopped at the end', async () => {
    project.write({ 'www/version': 'v2\n' })
    project.commit('v2')
    const marks = Object.fromEntries([...WEB, WORKER].map((host) => [host, loggedCommands(host).length]))
    const load = startLoad(WEB, HOST_HEADER, 40)
    const { run, plan, record } = await deploy('v2')
    lastDeploy = { plan, record }
    const traffic = await load.stop()
    expect(run.status).toBe(0)
    expect(traffic.failures).toBe(0)
    expect(traffic.requests).toBeGreaterThan(40)
    for (const address of WEB) expect(traffic.versions[address]).toEqual(['v1', 'v2'])

    const steps: Step[] = [...walkPlan(plan)].map(({ step }) => step)
    const logged = Object.fromEntries([...WEB, WORKER].map((host) => [host, loggedCommands(host).slice(marks[host])]))

    // The hosts' logs: before the lock command, only `mkdir -p .kamal` and read-only checks.
    const lock = logged[WEB[0]].find((item) => /^mkdir \.kamal\/lock-fast /.test(item.command))
    expect(lock).toBeDefined()
    const readOnly = new Set(record.filter((entry) => steps[entry.step]?.changes === false).map((entry) => entry.command))
    for (const host of [...WEB, WORKER]) {
      const early = logged[host].filter((item) => item.at < lock!.at)
      expect(early.filter((item) => item.command !== 'mkdir -p .kamal' && !readOnly.has(item.command)).map((item) => item.command)).toEqual([])
      expect(logged[host].length).toBeGreaterThan(early.length)
    }

    // The worker's docker run starts after the first web container passed kamal-proxy's health check.
    const firstHealthy = Math.min(...record.filter((entry) => entry.command.includes('kamal-proxy deploy') && entry.outcome === 'ok').map((entry) => entry.endedAt))
    const workerRun = logged[WORKER].find((item) => /(^| && |{ )docker run .*--name fast-workers-v2 /.test(item.command))
    expect(workerRun).toBeDefined()
    expect(workerRun!.at).toBeGreaterThanOrEqual(firstHealthy - 5)
    // Its first status question went with it, in the same exec.
    expect(workerRun!.command).toMatch(/ && docker container inspect --format '.*' fast-workers-v2$/)

    // The work overlapped: a host set up kamal-proxy while the runner was still building.
    const build = record.filter((entry) => entry.place === 'local' && entry.stage === 'Build and push')
    const buildEnd = Math.max(...build.map((entry) => entry.endedAt))
    expect(record.some((entry) => entry.stage === 'Ensure kamal-proxy' && entry.startedAt < buildEnd)).toBe(true)
    // The SSH handshakes began while the runner was still being probed and the plan made.
    const connects = record.filter((entry) => entry.kind === 'connect')
    expect(connects.map((entry) => entry.place).sort()).toEqual([...WEB, WORKER].sort())
    for (const connect of connects) expect(connect.startedAt).toBeLessThan(Math.min(...build.map((entry) => entry.startedAt)))

    // Old containers: stopped, and the lock released only after every stop ended.
    const stops = record.filter((entry) => /docker stop/.test(entry.command) && /fast-(web|workers)-v1/.test(entry.command))
    expect(stops.map((entry) => entry.place).sort()).toEqual([...WEB, WORKER].sort())
    // Each host prunes after its old container's stop, as Kamal does (a stopped container counts toward retain_containers).
    for (const stop of stops) {
      const prune = record.find((entry) => entry.place === stop.place && entry.stage === 'Prune')!
      expect(prune.startedAt).toBeGreaterThanOrEqual(stop.endedAt)
    }
    const release = record.find((entry) => entry.stage === 'Release deploy lock')!
    expect(release.startedAt).toBeGreaterThanOrEqual(Math.max(...stops.map((entry) => entry.endedAt)))
    for (const host of harness.hosts) {
      const running = dockerOn(harness, host.name, ['ps', '--filter', 'label=service=fast', '--format', '{{.Names}}']).split('\n').filter(Boolean)
      expect(running.every((name) => name.endsWith('-v2'))).toBe(true)
      expect(running).toHaveLength(1)
    }
  }, 120_000)

  test('interop: Kamal’s names, labels, audit lines and lock stay as they were', () => {
    const web = harness.hosts.find((host) => host.address === WEB[0])!
    const worker = harness.hosts.find((host) => host.address === WORKER)!
    expect(dockerOn(harness, web.name, ['inspect', 'fast-web-v2', '--format', '{{index .Config.Labels "service"}} {{index .Config.Labels "role"}} {{index .Config.Labels "destination"}}'])).toBe('fast web')
    expect(dockerOn(harness, worker.name, ['inspect', 'fast-workers-v2', '--format', '{{index .Config.Labels "role"}}'])).toBe('workers')
    expect(dockerOn(harness, web.name, ['ps', '-a', '--filter', 'name=^fast-web-v1$', '--format', '{{.State}}'])).toBe('exited')
    const audit = onHost(web.name, 'cat .kamal/fast-audit.log')
    for (const line of ['Pulled image with version v2', '[web] Booted app version v2', 'Tagging 10.213.0.1:5000/e2e/fast:v2 as the latest image', 'Pruned containers', 'Pruned images']) expect(audit).toContain(line)
    expect(onHost(worker.name, 'cat .kamal/fast-audit.log')).toContain('[workers] Booted app version v2')
    expect(onHost(web.name, 'ls .kamal')).not.toMatch(/lock-fast/)
    expect(onHost(web.name, 'stat -c %a .kamal/apps/fast/env/roles/web.env')).toBe('600')
  })

  test('a redeploy of the running version: the running container is renamed out of the way, the boot stops the renamed one, not its replacement', async () => {
    const { run, record } = await deploy('v2', 'redeploy')
    expect(run.status).toBe(0)
    for (const [address, role] of [[WEB[0], 'web'], [WEB[1], 'web'], [WORKER, 'workers']]) {
      const host = harness.hosts.find((item) => item.address === address)!
      const containers = dockerOn(harness, host.name, ['ps', '-a', '--filter', 'label=service=fast', '--format', '{{.Names}} {{.State}}']).split('\n').filter(Boolean)
      expect(containers.filter((item) => item.endsWith(' running'))).toEqual([`fast-${role}-v2 running`])
      // retain_containers: 1, as Kamal leaves it: the prune ran after the replaced container's stop, so that
      // one is the stopped container kept, and v1 is gone.
      expect(containers.filter((item) => !item.endsWith(' running'))).toEqual([expect.stringMatching(new RegExp(`^fast-${role}-v2_replaced_[0-9a-f]{16} exited$`))])
    }
    const stops = record.filter((entry) => entry.stage === 'Boot app' && /docker stop/.test(entry.command))
    expect(stops.map((entry) => entry.place).sort()).toEqual([...WEB, WORKER].sort())
    for (const stop of stops) expect(stop.command).toMatch(/^docker stop (-t \d+ )?fast-(web|workers)-v2_replaced_[0-9a-f]{16}$/)
    // The stale check's answer (v2, before the rename) was asked again once the clash check renamed it.
    expect(record.filter((entry) => entry.stage === 'Before boot' && /docker ps --latest/.test(entry.command))).toHaveLength(3)
  }, 120_000)

  test('a deploy with no clash asks for the running version once per host and role, in the stale check', () => {
    const { plan } = lastDeploy
    const beforeBoot = plan.stages.find((stage) => stage.title === 'Before boot')!
    expect(beforeBoot.placeAfter).toContain('stale')
    const queries = lastDeploy.record.filter((entry) => /docker ps --latest/.test(entry.command))
    expect(queries.map((entry) => entry.stage)).toEqual(['Stale containers', 'Stale containers', 'Stale containers'])
  })
})
