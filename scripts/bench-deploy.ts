/**
 * Code-only deploy benchmark on the local harness (run as root: `npm run bench:deploy`).
 *
 * Three layouts on one harness of 8 hosts: 2 web hosts behind kamal-proxy plus a worker
 * host (Kamal's figure for it: 5.0 s), 1 web host, and 8 web hosts. Each layout gets a
 * warm-up deploy, then BENCH_RUNS (default 3) deploys that each change one file. Printed per
 * layout: the median wall time, the critical path of the median run (which step on which
 * place bounded each stretch, from the action's own record), and the floor for the change
 * (build and push, the pull, the container start and kamal-proxy's first passing health
 * check, as they ran) with the ratio to it. BENCH_LAYOUTS=1,3 runs only those layouts;
 * BENCH_RECORDS=DIR keeps each deploy's record there (<version>.json); BENCH_BASELINE=FILE
 * deploys that bundle (an earlier dist/index.js) in turn with this one and prints its figures too.
 * BENCH_KAMAL=DIR (Kamal's and dotenv's sources, scripts/kamal-side/setup.sh DIR): the real Kamal
 * 2.12 CLI deploys the same app (as service <name>-k, on the same hosts) in turn with this bundle,
 * and the ratio is printed run by run: both meet the same machine, whose speed drifts.
 * BENCH_RTT=MS puts MS of round-trip time on every SSH connection, the action's and Kamal's alike
 * (ssh.proxy_command: scripts/latency-relay.js holds each chunk MS/2 each way), as to servers far
 * from the runner; the runner's registry, and the hosts' pulls from it, stay as near as before.
 * BENCH_SETTLE=SECONDS waits that long before each timed deploy (default 0), so none starts while
 * the hosts still finish the work the deploy before it left them.
 * BENCH_ACTION_NODE_OPTIONS=FLAGS starts the action's node with those flags besides (say
 * `--cpu-prof --cpu-prof-dir=DIR`, a CPU profile of each deploy). The action's own CPU time is
 * printed with the machine's (scripts/action-cpu-probe.cjs, preloaded).
 * BENCH_CPUS=split gives the runner side (this process and what it starts: the action, Kamal, the
 * docker CLI; the runner's dockerd; the registry) the first half of the CPUs and every host (its
 * dockerd, containerd, sshd and containers) the other half, as separate machines would have: on
 * one shared set of CPUs the hosts' work under the lock slows the runner's build.
 * The action runs on Node.js 24, its runtime (action.yml: using: node24), whatever node started
 * this script: the script runs itself again on it (scripts/install-node24.sh). BENCH_NODE=current
 * keeps the node that started it (rounds 1 to 6 ran the action on Node.js 20).
 */
import * as fs from 'node:fs'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import * as os from 'node:os'
import * as path from 'node:path'
import { startAction, type Entry } from '../__tests__/support/run-action'
import { AppProject, appFiles } from '../__tests__/e2e/support/app-project'
import { harnessAccess, harnessDown, harnessUp, type HarnessState } from '../__tests__/e2e/support/harness'
import type { RecordEntry } from '../src/execute/record'

const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const SETTLE_MS = Number(process.env.BENCH_SETTLE ?? 0) * 1000
const RTT_MS = Number(process.env.BENCH_RTT ?? 0)
/** The ssh section's proxy_command line for BENCH_RTT (empty without it). */
const latencyLine = RTT_MS > 0 ? `  proxy_command: "${process.execPath} ${path.join(__dirname, 'latency-relay.js')} %h %p ${RTT_MS / 2}"\n` : ''
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
const address = (index: number) => `10.213.0.${11 + index}`
/** Kamal 2.12's time for the 3-host layout: the issue's side-by-side figure, or BENCH_KAMAL_THREE (measured on this machine). */
const KAMAL_THREE_HOSTS = Number(process.env.BENCH_KAMAL_THREE ?? 5.0)

interface Layout {
  name: string
  service: string
  web: string[]
  worker?: string
}

const LAYOUTS: Layout[] = [
  { name: '2 web + 1 worker', service: 'benchthree', web: [address(0), address(1)], worker: address(2) },
  { name: '1 web host', service: 'benchone', web: [address(0)] },
  { name: '8 web hosts', service: 'bencheight', web: Array.from({ length: 8 }, (_, index) => address(index)) },
]

const config = (layout: Layout) => `service: ${layout.service}
image: bench/${layout.service}
servers:
  web:
    hosts:
${layout.web.map((host) => `      - ${host}`).join('\n')}
${layout.worker ? `  workers:\n    hosts:\n      - ${layout.worker}\n    cmd: sh -c 'trap "exit 0" TERM; sleep 100000 & wait'\n` : ''}proxy:
  host: ${layout.service}.test
  healthcheck:
    path: /up
registry:
  server: 10.213.0.1:5000
  username: deployer
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  arch: amd64
  driver: docker
deploy_timeout: 20
drain_timeout: 3
readiness_delay: 0
`

interface Run {
  seconds: number
  /** from starting node to the first recorded step, and from the last step's end to node's exit */
  before: number
  after: number
  /** CPU time all processes on the machine used during the deploy (runner, hosts, harness). */
  cpuSeconds: number
  /** CPU time of the action's own node process (scripts/action-cpu-probe.cjs) */
  actionCpuSeconds: number
  record: RecordEntry[]
}

/** Busy CPU time of the whole machine so far, from /proc/stat (user, nice, system, irq, softirq). */
function busyCpuSeconds(): number {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const [user, nice, system, , , irq, softirq] = fields
  return (user + nice + system + irq + softirq) / 100
}

let harness: HarnessState

const ACTION_CPU_PROBE = path.join(__dirname, 'action-cpu-probe.cjs')

/** BENCH_BASELINE=path/to/index.js: a second bundle (an earlier commit's dist), deployed in turn with this one. */
const BASELINE = process.env.BENCH_BASELINE

async function deploy(project: AppProject, version: string, entry: Entry = 'dist'): Promise<Run> {
  const started = Date.now()
  const cpuBefore = busyCpuSeconds()
  const access = harnessAccess(harness)
  // As the runner starts it: without the tests' recorder of process starts and connections, only
  // the probe that writes the process's own CPU time as it exits.
  const cpuFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cpu-')), 'action-cpu')
  const env = { ...access.env, NODE_OPTIONS: `--require "${ACTION_CPU_PROBE}" ${process.env.BENCH_ACTION_NODE_OPTIONS ?? ''}`.trim(), BENCH_ACTION_CPU_FILE: cpuFile }
  const run = await startAction(project.dir, { command: 'deploy', version, ...access.inputs, secrets: 'KAMAL_REGISTRY_PASSWORD=bench-registry-password' }, env, undefined, entry).finished
  const ended = Date.now()
  const seconds = (ended - started) / 1000
  const cpuSeconds = busyCpuSeconds() - cpuBefore
  if (run.status !== 0) throw new Error(`deploy ${version} failed (exit ${run.status}):\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-2000)}`)
  const actionCpuSeconds = Number(fs.readFileSync(cpuFile, 'utf8')) / 1e6
  fs.rmSync(path.dirname(cpuFile), { recursive: true, force: true })
  const record: RecordEntry[] = JSON.parse(fs.readFileSync(run.outputs.record, 'utf8'))
  if (process.env.BENCH_RECORDS) fs.copyFileSync(run.outputs.record, `${process.env.BENCH_RECORDS}/${version}.json`)
  const before = (Math.min(...record.map((entry) => entry.startedAt)) - started) / 1000
  const after = (ended - Math.max(...record.map((entry) => entry.endedAt))) / 1000
  return { seconds, before, after, cpuSeconds, actionCpuSeconds, record }
}

/** BENCH_KAMAL=DIR: the directory holding kamal/ (v2.12.0) and dotenv/ sources for scripts/kamal-side/kamal. */
const KAMAL_SOURCES = process.env.BENCH_KAMAL

/** The layout's app in a git repository of its own; `sshSection` (and BENCH_RTT's proxy_command in it) ends its deploy.yml. */
function appProject(layout: Layout, sshSection = ''): AppProject {
  const ssh = (sshSection || (latencyLine ? 'ssh:\n' : '')) + latencyLine
  return new AppProject({ 'config/deploy.yml': config(layout) + ssh, '.kamal/secrets': 'KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD\n', ...appFiles('warm') })
}

/** The layout's app for Kamal itself (its layout: service <name>-k), plus the ssh section Kamal reads its key and pinned host keys from. */
function kamalProject(layout: Layout, scratch: string): AppProject {
  const sshConfig = path.join(scratch, 'ssh_config')
  fs.writeFileSync(sshConfig, `Host 10.213.0.*\n  UserKnownHostsFile ${harness.knownHosts}\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n`)
  return appProject(layout, `ssh:\n  user: root\n  keys_only: true\n  keys: [ "${harness.privateKey}" ]\n  config: [ "${sshConfig}" ]\n`)
}

/** `kamal deploy` in the project, timed as this bundle's deploy is (wall time and the machine's CPU). */
async function kamalDeploy(project: AppProject, name: string, scratch: string): Promise<{ seconds: number; cpuSeconds: number }> {
  // With the real buildx plugin in DOCKER_CONFIG (scripts/install-buildx.sh), Kamal builds with it too; without, the wrapper builds as this bundle does.
  const realBuildx = process.env.DOCKER_CONFIG !== undefined && fs.existsSync(path.join(process.env.DOCKER_CONFIG, 'cli-plugins', 'docker-buildx'))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAMAL_SIDE_SOURCES: KAMAL_SOURCES,
    DOCKER_HOST: harness.runner.dockerHost,
    DOCKER_CONFIG: process.env.DOCKER_CONFIG ?? path.join(scratch, 'docker-config'),
    KAMAL_REGISTRY_PASSWORD: 'bench-registry-password',
    // Kamal's build clone (Dir.tmpdir/kamal-clones)
    TMPDIR: scratch,
    ...(realBuildx ? { KAMAL_SIDE_REAL_BUILDX: '1' } : { DOCKER_BUILDKIT: '0' }),
  }
  const log = path.join(scratch, `${name}.log`)
  const started = Date.now()
  const cpuBefore = busyCpuSeconds()
  const output = fs.openSync(log, 'w')
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(path.join(__dirname, 'kamal-side', 'kamal'), ['deploy'], { cwd: project.dir, env, stdio: ['ignore', output, output] })
    child.on('close', resolve)
  })
  fs.closeSync(output)
  const result = { seconds: (Date.now() - started) / 1000, cpuSeconds: busyCpuSeconds() - cpuBefore }
  if (code !== 0) throw new Error(`kamal deploy ${name} failed (exit ${code}); ${log}:\n${fs.readFileSync(log, 'utf8').slice(-4000)}`)
  return result
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const fixed = (seconds: number) => seconds.toFixed(2)

function stepName(entry: RecordEntry): string {
  if (/kamal-proxy deploy/.test(entry.command)) return 'kamal-proxy deploy'
  if (/docker (image )?pull/.test(entry.command)) return 'docker pull'
  if (/docker run /.test(entry.command)) return 'docker run'
  if (entry.kind === 'connect') return 'connect'
  if (entry.kind === 'upload') return 'upload'
  if (/>> \.kamal\/.*audit/.test(entry.command) && !/&& (docker|\{)/.test(entry.command.replace(/^mkdir -p \.kamal && /, ''))) return 'audit line'
  const words = entry.command.replace(/^mkdir -p \.kamal && echo .*?>> \S+ && /, '').split(/\s+/)
  return words.slice(0, words[0] === 'docker' || words[0] === 'git' ? 2 : 1).join(' ')
}

/** Backwards from the last thing that ended: at each point, the entry that ended last before it. */
export function criticalPath(record: RecordEntry[]): Array<{ from: number; to: number; what: string }> {
  if (record.length === 0) return []
  const origin = Math.min(...record.map((entry) => entry.startedAt))
  const path: Array<{ from: number; to: number; what: string }> = []
  let until = Math.max(...record.map((entry) => entry.endedAt))
  while (until > origin) {
    const bounding = record.filter((entry) => entry.endedAt <= until && entry.startedAt < until).sort((a, b) => b.endedAt - a.endedAt)[0]
    if (!bounding) break
    if (bounding.endedAt < until - 5) path.unshift({ from: bounding.endedAt - origin, to: until - origin, what: '(between steps)' })
    path.unshift({ from: bounding.startedAt - origin, to: bounding.endedAt - origin, what: `${bounding.place === 'local' ? 'runner' : bounding.place} · ${bounding.stage} · ${stepName(bounding)} ${fixed((bounding.endedAt - bounding.startedAt) / 1000)}` })
    until = bounding.startedAt
  }
  // Consecutive stretches of one place and stage read as one.
  const merged: typeof path = []
  for (const stretch of path) {
    const last = merged[merged.length - 1]
    const key = (what: string) => what.split(' · ').slice(0, 2).join(' · ')
    if (last && key(last.what) === key(stretch.what) && stretch.what !== '(between steps)' && last.what !== '(between steps)') {
      last.to = stretch.to
      last.what += `, ${stretch.what.split(' · ')[2]}`
    } else merged.push({ ...stretch })
  }
  return merged
}

/** Build and push, then on the primary web host: pull, docker run, kamal-proxy deploy. */
export function floor(record: RecordEntry[], primary: string): { seconds: number; parts: string } {
  const local = record.filter((entry) => entry.place === 'local' && /build/i.test(entry.stage) && entry.kind !== 'connect')
  const build = local.length > 0 ? (Math.max(...local.map((entry) => entry.endedAt)) - Math.min(...local.map((entry) => entry.startedAt))) / 1000 : 0
  const on = (pattern: RegExp) => {
    const entry = record.find((item) => item.place === primary && pattern.test(item.command))
    return entry ? (entry.endedAt - entry.startedAt) / 1000 : 0
  }
  const pull = on(/docker (image )?pull/)
  const run = on(/docker run /)
  const health = on(/kamal-proxy deploy/)
  return { seconds: build + pull + run + health, parts: `build+push ${fixed(build)} + pull ${fixed(pull)} + docker run ${fixed(run)} + first health check and switch ${fixed(health)}` }
}

/**
 * The changed file's content: new on every deploy of every layout and session. The runner's build
 * cache is shared, so content seen before (the same `v1` in two layouts) would build from cache.
 */
const changedFile = (layout: Layout, version: string) => `${version} ${layout.service} ${Date.now()}\n`

async function benchLayout(layout: Layout): Promise<{ median: number; floor: number; kamal?: number }> {
  const project = appProject(layout)
  await deploy(project, 'warm')
  const runs: Run[] = []
  const baseline: Run[] = []
  const kamal: Array<{ seconds: number; cpuSeconds: number }> = []
  /** A one-file change, committed; then the pause before the deploy. */
  const change = async (app: AppProject, of: Layout, version: string) => {
    app.write({ 'www/version': changedFile(of, version) })
    app.commit(version)
    await settle()
  }
  const changeAndDeploy = async (version: string, entry?: Entry) => {
    await change(project, layout, version)
    return deploy(project, version, entry)
  }
  const kamalLayout = { ...layout, service: `${layout.service}-k` }
  const kamalScratch = KAMAL_SOURCES ? fs.mkdtempSync(path.join(os.tmpdir(), 'bench-kamal-')) : ''
  const kamalApp = KAMAL_SOURCES ? kamalProject(kamalLayout, kamalScratch) : undefined
  const changeAndDeployWithKamal = async (version: string) => {
    await change(kamalApp!, kamalLayout, version)
    try {
      return await kamalDeploy(kamalApp!, version, kamalScratch)
    } catch (error) {
      // A failed Kamal deploy is not timed: reported, then tried once more with the same commit.
      console.log(`Kamal's deploy ${version} failed, tried again: ${(error instanceof Error ? error.message : String(error)).split('\n').filter((line) => /ERROR/.test(line)).join(' | ')}`)
      return kamalDeploy(kamalApp!, `${version}-again`, kamalScratch)
    }
  }
  if (kamalApp) await changeAndDeployWithKamal('warm')
  for (let index = 1; index <= RUNS; index++) {
    // With a baseline or Kamal, the deploys take turns, so all meet the same machine.
    if (BASELINE) baseline.push(await changeAndDeploy(`b${index}`, { bundle: BASELINE }))
    runs.push(await changeAndDeploy(`v${index}`))
    if (kamalApp) kamal.push(await changeAndDeployWithKamal(`v${index}`))
  }
  const wall = median(runs.map((run) => run.seconds))
  const typical = runs.find((run) => run.seconds === wall) ?? runs[0]
  const limit = floor(typical.record, layout.web[0])
  console.log(`\n## ${layout.name} (${RUNS} code-only deploys${RTT_MS > 0 ? `, ${RTT_MS} ms round trip on every SSH connection` : ""})`)
  if (BASELINE) {
    console.log(`baseline ${BASELINE}: wall time ${baseline.map((run) => fixed(run.seconds)).join(' s, ')} s; median ${fixed(median(baseline.map((run) => run.seconds)))} s; CPU ${baseline.map((run) => fixed(run.cpuSeconds)).join(' s, ')} s`)
  }
  console.log(`wall time: ${runs.map((run) => fixed(run.seconds)).join(' s, ')} s; median ${fixed(wall)} s`)
  const kamalMedian = kamal.length > 0 ? median(kamal.map((run) => run.seconds)) : undefined
  if (kamalMedian !== undefined) {
    const ratios = runs.map((run, index) => run.seconds / kamal[index].seconds)
    console.log(`Kamal 2.12, in turn: wall time ${kamal.map((run) => fixed(run.seconds)).join(' s, ')} s; median ${fixed(kamalMedian)} s; CPU ${kamal.map((run) => fixed(run.cpuSeconds)).join(' s, ')} s`)
    console.log(`this bundle / Kamal, run by run: ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}× (medians: ${(wall / kamalMedian).toFixed(2)}×)`)
  }
  console.log(`CPU used by all processes: ${runs.map((run) => fixed(run.cpuSeconds)).join(' s, ')} s (${os.cpus().length} CPUs); by the action's own node process: ${runs.map((run) => fixed(run.actionCpuSeconds)).join(' s, ')} s`)
  // No order of the steps finishes sooner than the machine can do the deploy's CPU work.
  const cpuBound = median(runs.map((run) => run.cpuSeconds)) / os.cpus().length
  console.log(`CPU-bound floor (median CPU of all processes / ${os.cpus().length} CPUs): ${fixed(cpuBound)} s; median wall time / it = ${(wall / cpuBound).toFixed(2)}×`)
  console.log(`outside the record (node start to the first step / the last step to exit): ${runs.map((run) => `${fixed(run.before)}/${fixed(run.after)}`).join(', ')} s`)
  console.log(`floor: ${fixed(limit.seconds)} s (${limit.parts}); median / floor = ${(wall / limit.seconds).toFixed(2)}×`)
  console.log('critical path of the median run (seconds from the first recorded step):')
  for (const stretch of criticalPath(typical.record)) console.log(`  ${fixed(stretch.from / 1000).padStart(6)}–${fixed(stretch.to / 1000).padEnd(6)} ${stretch.what}`)
  return { median: wall, floor: limit.seconds, kamal: kamalMedian }
}

/** BENCH_CPUS=split: the runner side on the first half of the CPUs, the hosts on the other half (see the header). */
function splitCpus(): void {
  const count = os.cpus().length
  if (count < 2) throw new Error('BENCH_CPUS=split needs at least 2 CPUs')
  const half = Math.floor(count / 2)
  const runnerCpus = `0-${half - 1}`
  const hostCpus = `${half}-${count - 1}`
  const parents = new Map<number, number>()
  const names = new Map<number, string>()
  for (const entry of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      const close = stat.lastIndexOf(')')
      parents.set(Number(entry), Number(stat.slice(close + 2).split(' ')[1]))
      names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close))
    } catch {
      // gone meanwhile
    }
  }
  // Each namespace's processes, and everything below them (containers live in namespaces of their own).
  const side = new Map<number, string>()
  for (const namespace of execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((line) => line.split(' ')[0]).filter((name) => name.startsWith('kdh-'))) {
    const cpus = namespace === 'kdh-runner' ? runnerCpus : hostCpus
    for (const pid of execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8' }).split('\n').filter(Boolean)) side.set(Number(pid), cpus)
  }
  for (const [pid, name] of names) if (name === 'docker-registry') side.set(pid, runnerCpus)
  const sideOf = (pid: number): string | undefined => {
    for (let at: number | undefined = pid; at && at > 1; at = parents.get(at)) if (side.has(at)) return side.get(at)
    return undefined
  }
  let pinned = 0
  for (const pid of names.keys()) {
    const cpus = sideOf(pid)
    if (!cpus) continue
    try {
      execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' })
      pinned++
    } catch {
      // gone meanwhile
    }
  }
  execFileSync('taskset', ['-a', '-p', '-c', runnerCpus, String(process.pid)], { stdio: 'ignore' })
  console.log(`BENCH_CPUS=split: runner side (this process, the action, Kamal, the runner's dockerd, the registry) on CPUs ${runnerCpus}; hosts on ${hostCpus} (${pinned} processes pinned)`)
}

const ACTION_RUNTIME_MAJOR = 24

/** Runs this script again on the action's runtime, unless it is on it already (or BENCH_NODE=current); true when it did. */
function rerunOnActionRuntime(): boolean {
  const major = Number(process.versions.node.split('.')[0])
  if (major === ACTION_RUNTIME_MAJOR || process.env.BENCH_NODE === 'current') return false
  const bin = execFileSync(path.join(__dirname, 'install-node24.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim()
  const result = spawnSync(path.join(bin, 'node'), [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: process.env })
  process.exitCode = result.status ?? 1
  return true
}

async function main(): Promise<void> {
  if (rerunOnActionRuntime()) return
  console.log(`the action runs on Node.js ${process.version}`)
  harness = harnessUp(8)
  if (process.env.BENCH_CPUS === 'split') splitCpus()
  else if (process.env.BENCH_CPUS) throw new Error(`BENCH_CPUS=${process.env.BENCH_CPUS}: the only value is "split"`)
  try {
    const results = []
    const only = process.env.BENCH_LAYOUTS?.split(',').map(Number)
    for (const [index, layout] of LAYOUTS.entries()) {
      if (!only || only.includes(index + 1)) results.push(await benchLayout(layout))
    }
    if (only) return
    const [three, one, eight] = results
    console.log('\n## Summary')
    const kamalThree = three.kamal ?? KAMAL_THREE_HOSTS
    console.log(`3 hosts: median ${fixed(three.median)} s = ${(three.median / kamalThree).toFixed(2)}× Kamal 2.12's ${kamalThree.toFixed(2)} s${three.kamal ? ' (measured in turn)' : ''} (goal ≤ 0.5×); ${(three.median / three.floor).toFixed(2)}× its floor`)
    console.log(`8 hosts / 1 host: ${fixed(eight.median)} s / ${fixed(one.median)} s = ${(eight.median / one.median).toFixed(2)}× (goal ≤ 1.3×)${eight.kamal && one.kamal ? `; Kamal's: ${(eight.kamal / one.kamal).toFixed(2)}×` : ''}`)
  } finally {
    if (!process.env.KEEP_HARNESS) harnessDown()
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  })
}
