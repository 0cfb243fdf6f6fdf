/**
 * Realistic run data for summary tests and screenshots: a real Plan (real
 * config, real plan builder), walked the way the executor walks it — stages in
 * order, lanes in parallel, units one after another, the primary barrier, the
 * lock release after a failure — on a virtual clock, writing the same record
 * entries, phase records and boot outcomes the executor writes. No host is
 * contacted; durations are typical ones from the harness.
 */
import { runnerSteps } from '../../src/make-plan'
import type { PhaseRecord } from '../../src/deploy/progress'
import { BootError, CancelledError, type BootOutcome } from '../../src/deploy/request'
import { RemoteCommandError } from '../../src/deploy/hosts'
import { fillPlaceholders, type Values } from '../../src/execute/placeholders'
import type { RecordEntry } from '../../src/execute/record'
import { buildPlan } from '../../src/plan/deploy-plan'
import { RUNNER, walkPlan, type Lane, type Plan, type Stage, type Step, type Unit } from '../../src/plan/steps'
import { scheduleNodes, type ScheduledNode } from '../../src/execute/executor'
import { selectTargets } from '../../src/plan/targets'
import { runFactsFrom, type RunFacts } from '../../src/report/facts'
import { bytesSentSummaryLine, type BytesSent } from '../../src/transfer/bytes-sent'
import { configFromYaml } from '../support/config'

export const SECRET = 'hunter2-registry-secret-7731'
export const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
export const PREVIOUS = '0f9e8d7c6b5a49382716051f2e3d4c5b6a798877'
export const T0 = Date.UTC(2026, 0, 5, 10, 0, 0)

export interface Scenario {
  yaml: string
  version?: string
  destination?: string
  /** what each host ran before (default PREVIOUS; undefined: a first deploy) */
  previous?: (host: string) => string | undefined
  /** fail this step (by label) on this host (and role) */
  fail?: { host: string; role?: string; label: string; stderr: string; logTail?: string }
  /** the job is cancelled when this stage is about to start */
  cancelAt?: string
  env?: NodeJS.ProcessEnv
}

const DURATIONS: Record<string, number> = {
  'docker pull': 650,
  'docker run': 420,
  'kamal-proxy deploy': 1050,
  'kamal-proxy start': 380,
  'docker login': 240,
}

/** Milliseconds a step takes on a host: typical figures, a little slower on later hosts. */
function duration(step: Step, place: string, hosts: readonly string[]): number {
  const jitter = 1 + (Math.max(hosts.indexOf(place), 0) % 5) * 0.04
  if (step.kind === 'runner') return /buildx build/.test(step.display) ? 5200 : 180
  if (step.kind === 'connect') return 310
  if (step.kind === 'exec') return Math.round((DURATIONS[step.label ?? ''] ?? 70) * jitter)
  if (step.kind === 'health') return 450
  if (step.kind === 'upload') return 30
  return 60
}

interface Simulation {
  clock: number
  record: RecordEntry[]
  phases: PhaseRecord[]
  boots: BootOutcome[]
  failed: boolean
  /** failed record entries so far */
  failures: number
  lockHeld: boolean
  failure?: unknown
  barrier?: { at: number; healthy: boolean; host: string; reason?: string }
  /** when the first failure happened: nodes that start later are skipped */
  failedAt?: number
}

export function simulate(scenario: Scenario): RunFacts {
  const config = configFromYaml(scenario.yaml, { destination: scenario.destination, version: scenario.version ?? SHA })
  const targets = selectTargets(config, { roles: [], hosts: [] })
  const facts = { docker: true, buildx: true, pack: false, dockerArch: 'amd64', projectDir: '/home/runner/work/shop/shop', git: { root: '/home/runner/work/shop/shop', revision: SHA }, tempDir: '/home/runner/work/_temp', dockerfilePresent: true, env: { PATH: '/usr/bin:/bin' } }
  const build = runnerSteps(config, facts, { username: 'deployer', shown: 'deployer' })
  const plan = buildPlan(config, targets, { command: 'deploy', skipPush: false, performer: 'octocat', registryUser: 'deployer', hooks: new Set(), build, accessories: [], now: () => new Date(T0) })
  const stepIndex = new Map<Step, number>()
  let counter = 0
  for (const { step } of walkPlan(plan)) stepIndex.set(step, counter++)
  const sim: Simulation = { clock: T0, record: [], phases: [], boots: [], failed: false, failures: 0, lockHeld: false }
  const previous = scenario.previous ?? (() => PREVIOUS)
  const primaryRole = config.primaryRoleName
  const bytesSent: BytesSent = {}
  const carried = new Map<string, Values>()

  const runUnit = (stage: Stage, place: string, unit: Unit, startedAt: number, withPhase: boolean): number => {
    let at = startedAt
    // As the executor does: a role's units on one host hand their values to the next stage's.
    const carry = unit.role ? `${place}|${unit.role}` : undefined
    const values: Values = new Map([['version', config.version], ...((carry && carried.get(carry)) || [])])
    if (carry) carried.set(carry, values)
    const meta = { stage: stage.title, place, role: unit.role }
    const add = (step: Step, command: string, ms: number, extra: Partial<RecordEntry> = {}) => {
      sim.record.push({ step: stepIndex.get(step) ?? -1, ...meta, kind: step.kind, command: fillPlaceholders(command, values, () => SECRET), outcome: 'ok', code: 0, startedAt: at, endedAt: at + ms, ...extra })
      at += ms
    }
    let healthyAt: number | undefined
    let error: Error | undefined
    for (const step of unit.steps) {
      if (step.when && !(values.get(step.when) && values.get(step.when) !== config.version)) continue
      if (step.unless && values.get(step.unless) && values.get(step.unless) !== config.version) continue
      const ms = duration(step, place, plan.hosts)
      const failing = scenario.fail && scenario.fail.host === place && (scenario.fail.role === undefined || scenario.fail.role === unit.role) && step.kind === 'exec' && step.label === scenario.fail.label
      if (failing) {
        add(step, step.kind === 'exec' ? step.command : '', ms, { outcome: 'failed', code: 1 })
        sim.failures++
        const shown = fillPlaceholders(step.kind === 'exec' ? step.command : '', values, () => '[REDACTED]')
        error = new RemoteCommandError(place, shown, { code: 1, stdout: '', stderr: scenario.fail!.stderr }, scenario.fail!.label)
        break
      }
      switch (step.kind) {
        case 'exec':
          if (step.capture === 'old_version') values.set('old_version', previous(place) ?? '')
          if (step.capture === 'container_id') values.set('container_id', 'c0ffee00beef')
          add(step, step.command, ms)
          if (step.label === 'kamal-proxy deploy') healthyAt = at
          break
        case 'runner':
          add(step, step.display, ms, { argv: step.argv })
          break
        case 'connect':
          add(step, `ssh root@${place}`, ms)
          break
        case 'upload':
          add(step, `upload ${step.path} (mode ${step.mode.toString(8).padStart(4, '0')})`, ms)
          break
        case 'lock':
          values.set('lock_details', 'TG9ja2VkIGJ5OiBvY3RvY2F0Cg==')
          add(step, step.command, ms)
          sim.lockHeld = true
          break
        case 'stale':
          if (step.currentInto) values.set(step.currentInto, previous(place) ?? '')
          add(step, step.survey, ms)
          break
        case 'clash':
          add(step, step.find, ms)
          break
        case 'proxy-version':
        case 'require-version':
        case 'report':
        case 'serving':
        case 'skip-if':
          add(step, step.command, ms)
          break
        case 'health':
          add(step, step.command, ms)
          add(step, step.command, ms)
          healthyAt = at
          break
        case 'barrier-wait': {
          const barrier = sim.barrier!
          add(step, `wait for the first healthy ${primaryRole} container (${barrier.host}: ${barrier.healthy ? 'healthy' : 'failed'})`, Math.max(0, barrier.at - at), { outcome: barrier.healthy ? 'ok' : 'failed', code: undefined })
          if (!barrier.healthy) sim.failures++
          if (!barrier.healthy) error = new BootError(place, unit.role ?? '', 'barrier', `First ${primaryRole} container is unhealthy on ${barrier.host}, not booting ${unit.role} on ${place} (${barrier.host}: ${barrier.reason})`)
          break
        }
        case 'barrier-open':
          if (!sim.barrier) sim.barrier = { at, healthy: true, host: place }
          break
        case 'ensure-docker':
          add(step, 'docker -v', ms)
          break
        default:
          add(step, step.kind === 'hook' ? `.kamal/hooks/${step.hook}` : step.kind === 'sleep' ? `sleep ${step.seconds}` : step.kind, ms)
      }
      if (error) break
    }
    if (error && unit.boot) {
      const role = config.roles.find((item) => item.name === unit.role)
      if (role?.primary && !sim.barrier) sim.barrier = { at, healthy: false, host: place, reason: error.message.split('\n')[0] }
      for (const step of unit.onFailure ?? []) if (step.kind === 'exec') add(step, step.command, duration(step, place, plan.hosts), { outcome: 'tolerated' })
      const bootError = error instanceof BootError ? error : new BootError(place, unit.role ?? '', scenario.fail?.label ?? 'boot', error.message, scenario.fail?.logTail)
      sim.boots.push({ host: place, role: unit.role ?? '', version: unit.boot.version, container: unit.boot.container, previousVersion: values.get('old_version') || undefined, ok: false, error: bootError.message, logTail: bootError.logTail })
      error = bootError
    } else if (unit.boot) {
      sim.boots.push({ host: place, role: unit.role ?? '', version: unit.boot.version, container: unit.boot.container, previousVersion: values.get('old_version') || undefined, ok: true, healthSeconds: healthyAt !== undefined ? (healthyAt - startedAt) / 1000 : undefined })
    }
    if (withPhase) sim.phases.push({ host: place, phase: stage.title, role: unit.role, startedAt, endedAt: at, ok: !error })
    if (error) {
      if (!sim.failed) sim.failure = error
      sim.failed = true
      sim.failedAt = Math.min(sim.failedAt ?? Infinity, at)
    }
    return at
  }

  const runLane = (stage: Stage, lane: Lane, start: number): number => {
    let at = start
    const byUnit = lane.units.length > 1 || lane.units.some((unit) => unit.boot)
    const before = sim.failures
    for (const unit of lane.units) {
      at = runUnit(stage, lane.place, unit, at, byUnit) + 5
      if (sim.failures > before && !unit.boot) break
    }
    if (!byUnit) sim.phases.push({ host: lane.place, phase: stage.title, role: lane.units[0]?.role, startedAt: start, endedAt: at - 5, ok: sim.failures === before })
    return at
  }

  // The executor's schedule (scheduleNodes): each node starts once what it waits for has ended.
  // Within a stage, primary units first: the barrier opens on the first healthy primary container.
  const nodes = scheduleNodes(plan.stages)
  const ordered = [...nodes].sort((a, b) => a.stageIndex - b.stageIndex || Number(b.lane?.units[0]?.role === primaryRole) - Number(a.lane?.units[0]?.role === primaryRole))
  const endOf = new Map<ScheduledNode, number>()
  for (const node of ordered) {
    const { stage } = node
    const start = Math.max(T0, ...node.after.map((before) => endOf.get(before) ?? T0)) + (node.barrier ? 15 : 5)
    endOf.set(node, start)
    const failedBefore = sim.failedAt !== undefined && sim.failedAt <= start
    const runnable = stage.always === 'lock-held' ? sim.lockHeld : !failedBefore
    if (!runnable || (stage.onSuccessOnly && sim.failed)) continue
    if (stage.always !== 'lock-held' && stage.title === scenario.cancelAt) {
      sim.failure = sim.failure ?? new CancelledError()
      sim.failed = true
      sim.failedAt = Math.min(sim.failedAt ?? Infinity, start)
      continue
    }
    if (node.pull) {
      const shipStep = stage.lanes[0].units[0].steps[0]
      const end = Math.max(start, ...node.pull.lanes.map((lane) => runLane(node.pull as Stage, lane, start))) + 20
      const hosts = shipStep.kind === 'ship' ? shipStep.hosts : []
      for (const host of hosts) bytesSent[host] = 48_213_004 + hosts.indexOf(host) * 1024
      sim.record.push({ step: stepIndex.get(shipStep) ?? -1, stage: stage.title, place: RUNNER, kind: 'ship', command: `serve ${config.absoluteImage} to ${hosts.join(', ')}`, outcome: 'ok', startedAt: start, endedAt: end })
      endOf.set(node, end)
      continue
    }
    endOf.set(node, runLane(stage, node.lane as Lane, start))
    if (stage.always === 'lock-held') sim.lockHeld = false
  }

  const failed = sim.failure !== undefined
  return runFactsFrom(config, targets.roles, {
    command: 'deploy',
    result: sim.failure instanceof CancelledError ? 'cancelled' : failed ? 'failed' : 'success',
    plan: plan as Plan,
    record: sim.record,
    boots: sim.boots,
    phases: sim.phases,
    failure: sim.failure,
    transferLine: bytesSentSummaryLine(bytesSent) || undefined,
    redact: (text) => text.split(SECRET).join('[REDACTED]'),
    env: scenario.env ?? { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/shop', GITHUB_SHA: SHA, GITHUB_ACTOR: 'octocat' },
    environment: scenario.env ? undefined : 'production',
  })
}

/** web on two hosts behind kamal-proxy with TLS, a worker role without the proxy: the reference 3-host deploy. */
export const THREE_HOSTS = `
service: shop
image: acme/shop
registry: { server: ghcr.io, username: deployer, password: [KAMAL_REGISTRY_PASSWORD] }
servers:
  web: [vm1, vm2]
  jobs: { hosts: [vm3], cmd: bin/jobs }
proxy: { host: shop.example.com, ssl: true }
builder: { arch: amd64, args: { COMMIT_SHA: ${SECRET} } }
`

export const REGISTRY_FREE = `
service: shop
image: acme/shop
registry: { server: "localhost:5555" }
servers:
  web: [vm1, vm2]
proxy: { host: shop.example.com }
builder: { arch: amd64 }
`

export function manyHosts(count: number, { jobs = 0 }: { jobs?: number } = {}): string {
  const web = Array.from({ length: count - jobs }, (_, at) => `web-${String(at + 1).padStart(2, '0')}.example.com`)
  const workers = Array.from({ length: jobs }, (_, at) => `jobs-${String(at + 1).padStart(2, '0')}.example.com`)
  return `
service: shop
image: acme/shop
registry: { server: ghcr.io, username: deployer, password: [KAMAL_REGISTRY_PASSWORD] }
servers:
  web: [${web.join(', ')}]
${jobs > 0 ? `  jobs: { hosts: [${workers.join(', ')}], cmd: bin/jobs }\n` : ''}proxy: { hosts: [shop.example.com, www.shop.example.com], ssl: true }
builder: { arch: amd64 }
`
}
