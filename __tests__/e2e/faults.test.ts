import * as fs from 'node:fs'
import { errorAnnotations, startAction, type ActionRun } from '../support/run-action'
import { AppProject, appFiles } from './support/app-project'
import { dockerOn, HARNESS_REGISTRY_AND_BUILDER, harnessDown, harnessUp, onHost, readState, startLoad, type HarnessState } from './support/harness'

// Faults Kamal survives, injected on real hosts under steady load: a container that exits at once,
// the SSH connection cut while the web container boots, and a host that stays unreachable.
const HOST_HEADER = 'faults.test'
const WEB = ['10.213.0.11', '10.213.0.12']
const WORKER = '10.213.0.13'
const RATE_PER_HOST = 40

const CONFIG = `service: faults
image: e2e/faults
servers:
  web: [${WEB.join(', ')}]
  workers:
    hosts: [${WORKER}]
    cmd: sh -c 'echo worker up; while true; do sleep 1; done'
proxy:
  host: ${HOST_HEADER}
  healthcheck: { path: /up, interval: 1, timeout: 2 }
${HARNESS_REGISTRY_AND_BUILDER}deploy_timeout: 20
drain_timeout: 2
readiness_delay: 1
`

let harness: HarnessState
let project: AppProject

async function act(version: string, dir = project.dir): Promise<ActionRun> {
  const run = await startAction(
    dir,
    {
      command: 'deploy',
      version,
      'ssh-private-key': fs.readFileSync(harness.privateKey, 'utf8'),
      'ssh-known-hosts': fs.readFileSync(harness.knownHosts, 'utf8'),
      secrets: 'KAMAL_REGISTRY_PASSWORD=anything',
    },
    { DOCKER_HOST: harness.runner.dockerHost },
  ).finished
  if (process.env.E2E_VERBOSE || run.status !== 0) process.stdout.write(`deploy ${version} (exit ${run.status}):\n${run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask')).slice(-80).join('\n')}\n`)
  return run
}

/** The web app of `version`, whose httpd starts only after `delay` seconds (a slow boot to cut into). */
function slowApp(version: string, delay: number): Record<string, string> {
  const files = appFiles(version)
  files.Dockerfile = files.Dockerfile.replace(/CMD \[.*\]/, `CMD ["sh", "-c", "trap 'exit 0' TERM; sleep ${delay}; httpd -f -v -p 80 -h /www & wait"]`)
  return files
}

/** Resolves once `container` exists on the host (polled). */
async function containerAppears(hostName: string, container: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (dockerOn(harness, hostName, ['ps', '-a', '--filter', `name=^${container}$`, '--format', '{{.Names}}']) === container) return
    await new Promise((resolve) => setTimeout(resolve, 150))
  }
  throw new Error(`${container} never appeared on ${hostName}`)
}

/** Resolves once the host's sshd has been asked to run a command containing `fragment` (harness commands.log). */
async function commandArrives(hostName: string, fragment: string, timeoutMs = 60_000): Promise<void> {
  const log = (readState() as unknown as { hosts: Array<{ name: string; commandsLog: string }> }).hosts.find((host) => host.name === hostName)?.commandsLog ?? ''
  const before = fs.readFileSync(log, 'utf8').length
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (fs.readFileSync(log, 'utf8').slice(before).includes(fragment)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${hostName} was never asked to run ${fragment}`)
}

const lockOn = (hostName: string) => onHost(hostName, 'test -e .kamal/lock-faults && echo held || echo free')
const bootGroupSeconds = (run: ActionRun, host: string, role: string) => Number(new RegExp(`::group::${host.replace(/\./g, '\\.')} · Boot app \\[${role}\\] — FAILED in ([\\d.]+)s`).exec(run.stdout)?.[1] ?? NaN)

beforeAll(() => {
  harness = harnessUp(3)
  project = new AppProject({ 'config/deploy.yml': CONFIG, ...appFiles('v1') })
}, 180_000)

afterAll(() => {
  if (!process.env.KEEP_HARNESS) harnessDown()
}, 60_000)

describe('faults on real hosts', () => {
  test('v1 deploys', async () => {
    const run = await act('v1')
    expect(run.status).toBe(0)
  })

  test('two deploys at once from two working copies on one machine: one wins, the other fails on the lock with the holder, no build-clone collision', async () => {
    const other = new AppProject({ 'config/deploy.yml': CONFIG, ...slowApp('v1b', 3) })
    project.write(slowApp('v1a', 3))
    project.commit('v1a')
    const [first, second] = await Promise.all([act('v1a'), act('v1b', other.dir)])
    const statuses = [first.status, second.status].sort()
    expect(statuses).toEqual([0, 1])
    const loser = first.status === 1 ? first : second
    const message = errorAnnotations(loser.stdout).map((annotation) => annotation.message).join('\n')
    expect(message).toMatch(/Deploy lock found on 10\.213\.0\.11[\s\S]*Locked by: Deployer/)
    expect(`${loser.stdout}${loser.stderr}`).not.toMatch(/getwd|No such file or directory.*kamal-clones/)
    // Once it found the lock held, the loser pushed nothing more: its pushes would race the winner's in the registry.
    const loserRecord = JSON.parse(fs.readFileSync(loser.outputs.record, 'utf8')) as Array<{ kind: string; command: string; outcome: string; startedAt: number; endedAt: number }>
    const lockFound = Math.max(...loserRecord.filter((entry) => entry.kind === 'lock' || entry.kind === 'lock-status').map((entry) => entry.endedAt))
    // Without buildx the pushes are `docker push` steps; with buildx the build pushes (`--push` / `type=registry`).
    // The lock is often found before the build starts: then the build is the step recorded as not run. Found
    // while the build runs, the build's process is stopped (recorded as such).
    const pushes = loserRecord.filter((entry) => entry.command.startsWith('docker push') || (/^docker buildx build /.test(entry.command) && /--push|type=registry/.test(entry.command)))
    const runner = loserRecord.filter((entry) => entry.kind === 'runner')
    const runnerAfterLock = runner.filter((entry) => entry.startedAt >= lockFound)
    const stoppedAtLock = runner.filter((entry) => entry.outcome === 'stopped')
    process.stdout.write(runner.map((entry) => `  ${entry.outcome} ${entry.startedAt - lockFound}..${entry.endedAt - lockFound} ms ${entry.command.slice(0, 80)}\n`).join(''))
    process.stdout.write(`loser: lock found ${lockFound - Math.min(...loserRecord.map((entry) => entry.startedAt))} ms in; runner steps not run ${runnerAfterLock.length}, stopped ${stoppedAtLock.length}\n`)
    for (const step of runnerAfterLock) expect(step.outcome).toBe('skipped')
    expect(pushes.filter((entry) => entry.outcome === 'ok').every((entry) => entry.startedAt < lockFound)).toBe(true)
    // No runner step ran on for long after the lock was found (a stop takes well under a second).
    for (const step of runner.filter((entry) => entry.outcome !== 'skipped' && entry.outcome !== 'stopped')) expect(step.endedAt).toBeLessThan(lockFound + 1000)
    for (const step of stoppedAtLock) expect(step.endedAt - lockFound).toBeLessThan(5000)
    // Unless the whole build was over before the lock was found (Kamal's order), some runner step was not run or stopped.
    if (runner.some((entry) => entry.endedAt >= lockFound)) expect(runnerAfterLock.length + stoppedAtLock.length).toBeGreaterThan(0)
    expect(lockOn('host1')).toBe('free')
  }, 240_000)

  test('a web container that exits with status 3 fails the boot in under 5 s with its status and last log lines; v1 keeps serving', async () => {
    const files = appFiles('v2')
    files.Dockerfile = files.Dockerfile.replace(/CMD \[.*\]/, `CMD ["sh", "-c", "echo starting v2; echo 'boom: missing DATABASE_URL' >&2; exit 3"]`)
    project.write(files)
    project.commit('v2 exits')
    const load = startLoad(WEB, HOST_HEADER, RATE_PER_HOST)
    const run = await act('v2')
    const report = await load.stop()
    process.stdout.write(`v2 (exits 3) under load: ${report.requests} requests, ${report.failures} failed, statuses ${JSON.stringify(report.statuses)}, versions ${JSON.stringify(report.versions)}\n`)
    expect(run.status).toBe(1)
    expect(report.failures).toBe(0)
    const annotations = errorAnnotations(run.stdout)
    const web = annotations.find((annotation) => annotation.message.includes('exited with status 3'))
    expect(web?.message).toMatch(/Last log lines of the new container:[\s\S]*boom: missing DATABASE_URL/)
    expect(web?.message).not.toMatch(/requires 1 argument|Usage:/)
    // From `docker run` to the watch that saw the exit, per web host, from the record of what ran.
    const record = JSON.parse(fs.readFileSync(run.outputs.record, 'utf8')) as Array<{ place: string; kind: string; command: string; startedAt: number; endedAt: number }>
    for (const host of WEB) {
      const started = record.find((entry) => entry.place === host && entry.command.includes('docker run --detach'))?.startedAt ?? NaN
      const seen = Math.max(...record.filter((entry) => entry.place === host && entry.kind === 'watch').map((entry) => entry.endedAt))
      process.stdout.write(`${host}: the exit was seen ${((seen - started) / 1000).toFixed(1)} s after docker run (boot group ${bootGroupSeconds(run, host, 'web')} s)\n`)
      expect(seen - started).toBeLessThan(5000)
    }
    // The worker did not boot, and says which web host's failure stopped it.
    expect(annotations.find((annotation) => annotation.message.includes(`not booting workers on ${WORKER}`))?.message).toMatch(/First web container is unhealthy on 10\.213\.0\.1[12]/)
    expect(lockOn('host1')).toBe('free')
  }, 240_000)

  test('the SSH connection cut while the web container boots: 0 failed requests, lock released after reconnecting, the annotation names host, step and what it serves', async () => {
    project.write(slowApp('v3', 4))
    project.commit('v3 slow')
    const load = startLoad(WEB, HOST_HEADER, RATE_PER_HOST)
    const running = act('v3')
    let run: ActionRun
    let report: Awaited<ReturnType<typeof load.stop>>
    try {
      // cut while kamal-proxy health-checks the new container: the host's own log says when that command arrived
      await commandArrives('host1', 'kamal-proxy deploy faults-web')
      await new Promise((resolve) => setTimeout(resolve, 300))
      // pkill sees every host's processes (host-exec enters host1's mount and net namespaces, not a PID one): only host1's net namespace.
      onHost('host1', "pkill --ns $$ --nslist net -f 'sshd: roo[t]@' || true")
    } finally {
      run = await running
      report = await load.stop()
    }
    process.stdout.write(`v3 (cut) under load: ${report.requests} requests, ${report.failures} failed, statuses ${JSON.stringify(report.statuses)}, versions ${JSON.stringify(report.versions)}\n`)
    expect(run.status).toBe(1)
    expect(report.failures).toBe(0)
    const annotation = errorAnnotations(run.stdout).find((item) => item.message.includes('10.213.0.11') && item.message.includes('connection was lost'))
    expect(annotation?.message).toMatch(/the SSH connection was lost during kamal-proxy deploy; reconnected; serves v\w+ \((old|new)\)/)
    expect(lockOn('host1')).toBe('free')
    const state = dockerOn(harness, 'host1', ['ps', '--filter', 'label=service=faults', '--filter', 'label=role=web', '--format', '{{.Names}}'])
    expect(state.length).toBeGreaterThan(0)
  }, 240_000)

  test('a host that stays unreachable after the cut: the annotation says how to release the lock', async () => {
    project.write(slowApp('v4', 4))
    project.commit('v4 slow')
    const running = act('v4')
    await containerAppears('host1', 'faults-web-v4')
    await new Promise((resolve) => setTimeout(resolve, 500))
    onHost('host1', "pkill --ns $$ --nslist net -f '[s]shd' || true")
    const run = await running
    expect(run.status).toBe(1)
    const messages = errorAnnotations(run.stdout).map((annotation) => annotation.message).join('\n')
    expect(messages).toMatch(/10\.213\.0\.11 is unreachable, so the deploy lock stays there\. Once the host is reachable, run this action with command: lock release/)
    expect(messages).toMatch(/the host stayed unreachable/)
  }, 240_000)
})
