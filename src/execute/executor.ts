/**
 * Runs a Plan: stages in order, each stage's lanes in parallel (one per
 * place), each lane's units one after another. Every command and upload is
 * written to the RunRecord as it ran. Failures stop the next stages; the lock
 * release runs whatever happens while the lock is held.
 */
import * as core from '@actions/core'
import { Auditor } from '../commands/auditor'
import type { KamalConfig } from '../config/model'
import { forEachLimited, MultiHostError, type HostPool } from '../deploy/hosts'
import type { Progress } from '../deploy/progress'
import { BootError, CancelledError, type BootOutcome } from '../deploy/request'
import { RUNNER, walkPlan, type Lane, type Plan, type Stage, type Step, type Unit } from '../plan/steps'
import type { Targets } from '../plan/targets'
import type { Secrets } from '../secrets/load'
import type { BytesSent } from '../transfer/bytes-sent'
import { shipThroughLocalRegistry } from '../transfer/local-registry'
import { AllHealthyBarrier, PrimaryBarrier } from './barrier'
import { RolledBackError, runHostStep, UnitSkipped } from './host-steps'
import { RunFailedElsewhereError, runLocalStep } from './local-steps'
import type { Values } from './placeholders'
import { RunRecord } from './record'

export interface ExecutionContext {
  config: KamalConfig
  targets: Targets
  secrets: Secrets
  pool: HostPool
  progress: Progress
  projectDir: string
  performer: string
  lockedBy: string
  registryPassword?: string
  /** the roles input, when given (KAMAL_ROLES for hooks) */
  rolesFilter?: string[]
  /** the environment hooks and runner processes inherit */
  env: NodeJS.ProcessEnv
  /** called once the lock is held / released, so the post step can release it if this step dies */
  onLock?: (state: { host: string; directory: string } | null) => void
  /** true once the job was asked to stop: no new host work starts */
  cancelled?: () => boolean
  /** aborted when the job is asked to stop: a runner process still going (the build) is stopped */
  cancelSignal?: AbortSignal
  /** how many places get work at once */
  parallelism?: number
  /** text known to be secret, removed from logs and records */
  redact: (text: string) => string
  /** the deploy key(s) and pinned known_hosts, for a remote builder reached over ssh:// */
  builderSsh?: { privateKeys: string[]; knownHosts?: string }
}

export interface ExecutionResult {
  record: RunRecord
  boots: BootOutcome[]
  bytesSent: BytesSent
  /** what a command answers (lock status, …) */
  message?: string
  /** a rollback target that does not exist: Kamal prints it and exits 0 */
  unavailableVersion?: boolean
  /** the first failure, when the run failed */
  failure?: unknown
  /** what stream/show steps printed, per host (app exec, logs, details…) */
  outputs: CommandOutput[]
  /** run-wide values (the pushed image's digest, …) */
  shared: Values
}

/** One host's answer to a command that shows output. */
export interface CommandOutput {
  host: string
  heading: string
  text: string
  /** the command's exit status */
  code: number
}

/** Shared state of one run, handed to the step runners. */
export class Execution {
  readonly record = new RunRecord()
  readonly boots: BootOutcome[] = []
  readonly bytesSent: BytesSent = {}
  readonly barrier = new PrimaryBarrier()
  /** all-or-nothing runs: every boot healthy, or every switched host back */
  readonly allHealthy: AllHealthyBarrier
  readonly auditor: Auditor
  readonly stepIndex = new Map<Step, number>()
  readonly outputs: CommandOutput[] = []
  /** values set by share steps, seen by every unit that starts after */
  readonly shared: Values = new Map()
  /** each (place, role)'s values, handed from one stage's unit to the next */
  private readonly carried = new Map<string, Values>()
  lockHeld = false
  message?: string
  unavailableVersion = false
  private readonly failure = new AbortController()
  /** aborted once the run has failed or the job is cancelled: runner processes still going are stopped */
  readonly stopSignal: AbortSignal

  constructor(
    readonly plan: Plan,
    readonly context: ExecutionContext,
  ) {
    this.auditor = new Auditor(context.config, context.performer)
    this.stopSignal = context.cancelSignal ? AbortSignal.any([this.failure.signal, context.cancelSignal]) : this.failure.signal
    let index = 0
    let boots = 0
    for (const { step, unit, failureStep } of walkPlan(plan)) {
      this.stepIndex.set(step, index++)
      if (step.kind === 'all-healthy' && !failureStep && unit.boot) boots++
    }
    this.allHealthy = new AllHealthyBarrier(boots)
  }

  say(line: string): void {
    this.context.progress.say(line)
  }

  get runFailed(): boolean {
    return this.failure.signal.aborted
  }

  private get failed(): boolean {
    return this.failure.signal.aborted
  }

  async run(): Promise<ExecutionResult> {
    const nodes = scheduleNodes(this.plan.stages)
    const failures = new Map<number, Array<{ host: string; error: Error }>>()
    const unwrapped = new Map<number, unknown>()
    const announced = new Set<Stage>()
    const slots = new Map<Stage, Semaphore>()
    const done = new Map<ScheduledNode, Promise<void>>()
    const runNode = async (node: ScheduledNode): Promise<void> => {
      await Promise.all(node.after.map((before) => done.get(before)))
      const { stage } = node
      if (node.barrier) await this.settleBackground()
      // Kamal prunes after the old container's stop (a stopped container counts toward retain_containers):
      // a host's next stage waits for the stops started on that host.
      else if (node.lane && !stage.besideBackground) await this.settleBackground(node.lane.place)
      const runnable = stage.always === 'lock-held' ? this.lockHeld : !this.failed && !this.unavailableVersion
      if (!runnable || (stage.onSuccessOnly && this.failed)) return
      const slot = slots.get(stage) ?? slots.set(stage, new Semaphore(this.context.parallelism ?? 30)).get(stage)!
      await slot.acquire()
      try {
        if (stage.always !== 'lock-held' && this.context.cancelled?.()) throw new CancelledError()
        if (stage.announce && !announced.has(stage)) {
          announced.add(stage)
          this.say(stage.announce)
        }
        if (node.pull) await this.ship(stage, () => this.runStage(node.pull as Stage))
        else await this.runLane(stage, node.lane as Lane)
        if (stage.always === 'lock-held') {
          this.lockHeld = false
          this.context.onLock?.(null)
        }
      } catch (error) {
        if (stage.always === 'lock-held') {
          const message = error instanceof Error ? error.message : String(error)
          core.error(`Error releasing the deploy lock: ${message}${/lock release/.test(message) ? '' : ' Release it with command: lock release.'}`)
          return
        }
        // A lane's failure reads as one host's (MultiHostError, as forEachLimited reports it); a cancel or a ship failure as itself.
        if (!node.lane || error instanceof CancelledError) unwrapped.set(node.stageIndex, unwrapped.get(node.stageIndex) ?? error)
        else (failures.get(node.stageIndex) ?? failures.set(node.stageIndex, []).get(node.stageIndex)!).push({ host: node.lane.place, error: error instanceof Error ? error : new Error(String(error)) })
        this.failure.abort()
        this.allHealthy.fail(node.lane?.place ?? RUNNER, firstLine(error))
      } finally {
        slot.release()
      }
    }
    for (const node of nodes) done.set(node, runNode(node))
    await Promise.all(done.values())
    await this.settleBackground()
    // The first failure is the earliest stage's, as when stages ran one after another; a runner
    // step stopped or not run because the run had failed elsewhere is never that failure.
    const elsewhere = (index: number) => (unwrapped.has(index) ? [unwrapped.get(index)] : (failures.get(index) ?? []).map((item) => item.error)).every((error) => error instanceof RunFailedElsewhereError)
    const failed = [...failures.keys(), ...unwrapped.keys()].sort((a, b) => a - b)
    const first = failed.find((index) => !elsewhere(index)) ?? failed[0]
    const failure = first === undefined ? undefined : unwrapped.has(first) ? unwrapped.get(first) : new MultiHostError(failures.get(first) ?? [])
    return { record: this.record, boots: this.boots, bytesSent: this.bytesSent, message: this.message, unavailableVersion: this.unavailableVersion, failure, outputs: this.outputs, shared: this.shared }
  }

  /**
   * Steps started in the background (an old container's stop), with their place: the run waits
   * for them at its next barrier, and a pipelined stage for those on its own place.
   */
  private background: Array<{ place: string; work: Promise<unknown> }> = []

  runInBackground(place: string, work: Promise<unknown>): void {
    this.background.push({ place, work: work.catch(() => undefined) })
  }

  private async settleBackground(place?: string): Promise<void> {
    // A loop: a step settled here may have started more background work.
    for (;;) {
      const settling = this.background.filter((item) => place === undefined || item.place === place)
      if (settling.length === 0) return
      this.background = this.background.filter((item) => !settling.includes(item))
      await Promise.all(settling.map((item) => item.work))
    }
  }

  /** Registry-free: the runner serves the image while the hosts pull. */
  private async ship(stage: Stage, pull: () => Promise<void>): Promise<void> {
    const { config, pool } = this.context
    const step = stage.lanes[0].units[0].steps[0]
    const hosts = step.kind === 'ship' ? step.hosts : []
    const startedAt = Date.now()
    await shipThroughLocalRegistry({ config, hosts, connection: (host) => pool.get(host), say: (line) => this.say(line), bytesSent: this.bytesSent }, pull)
    this.record.add({ step: this.stepIndex.get(step) ?? -1, stage: stage.title, place: 'local', kind: 'ship', command: `serve ${config.absoluteImage} to ${hosts.join(', ')}`, outcome: 'ok', startedAt, endedAt: Date.now() })
  }

  private async runStage(stage: Stage): Promise<void> {
    const { parallelism = 30 } = this.context
    await forEachLimited(stage.lanes, parallelism, (lane) => lane.place, (lane) => this.runLane(stage, lane))
  }

  private async runLane(stage: Stage, lane: Lane): Promise<void> {
    if (lane.place !== RUNNER && (await this.context.pool.refreshIfIdle(lane.place).catch(() => false))) this.say(`Reopened the idle SSH connection to ${lane.place} (sshkit.pool_idle_timeout)`)
    // The lock release must still happen after a cut connection: reconnect first.
    if (stage.always === 'lock-held' && lane.place !== RUNNER && this.connectionLost(lane.place) && !(await this.reconnect(lane.place))) {
      throw new Error(`${lane.place} is unreachable, so the deploy lock stays there. Once the host is reachable, run this action with command: lock release (or \`kamal lock release\`), and check what it serves with \`ssh ${this.context.config.ssh.user}@${lane.place} docker ps\``)
    }
    const byUnit = lane.units.length > 1 || lane.units.some((unit) => unit.boot)
    if (!byUnit) {
      await this.context.progress.phase(lane.place, stage.title, (log) => this.runUnit(stage, lane, lane.units[0], log), lane.units[0]?.role)
      return
    }
    for (const unit of lane.units) await this.context.progress.phase(lane.place, stage.title, (log) => this.runUnit(stage, lane, unit, log), unit.role)
  }

  private async runUnit(stage: Stage, lane: Lane, unit: Unit, log: (line: string) => void): Promise<void> {
    // A role's units on one host share their values across stages (Before boot's old_version in Boot app).
    const carry = unit.role ? `${lane.place}|${unit.role}` : undefined
    const values: Values = new Map([...this.shared, ['version', this.context.config.version], ...((carry && this.carried.get(carry)) || [])])
    if (carry) this.carried.set(carry, values)
    const started = Date.now()
    let healthyAt: number | undefined
    let current: Step | undefined
    // A step started alongside the next one (alongsideNext), with the step it went ahead of.
    let alongside: { step: Step; running: Promise<void> } | undefined
    try {
      for (const step of unit.steps) {
        if (!this.shouldRun(step, values)) continue
        if (unit.boot && step.kind === 'exec' && step.label === 'docker run' && this.context.cancelled?.()) throw new CancelledError()
        current = step
        if (step.background) {
          // Its own log group: the unit's group is printed when the unit ends, maybe before this step does.
          const snapshot = new Map(values)
          this.runInBackground(lane.place, this.context.progress.phase(lane.place, `${stage.title}: ${step.note ?? stepName(step)}`, (own) => this.runStep(stage, lane, unit, step, snapshot, own), unit.role))
          continue
        }
        if (step.alongsideNext && !alongside) {
          const running = this.runStep(stage, lane, unit, step, values, log)
          running.catch(() => undefined)
          alongside = { step, running }
          continue
        }
        if (alongside) {
          const earlier = alongside
          alongside = undefined
          const [first, second] = await Promise.allSettled([earlier.running, this.runStep(stage, lane, unit, step, values, log)])
          if (first.status === 'rejected') {
            current = earlier.step
            throw first.reason
          }
          if (second.status === 'rejected') throw second.reason
        } else await this.runStep(stage, lane, unit, step, values, log)
        if (step.kind === 'health' || (step.kind === 'exec' && step.label === 'kamal-proxy deploy')) {
          healthyAt = Date.now()
          values.set('took_traffic', 'yes')
        }
      }
      if (alongside) {
        current = alongside.step
        await alongside.running
      }
    } catch (error) {
      if (error instanceof UnitSkipped) return
      this.closeBarrierOnPrimaryFailure(lane, unit, error)
      if (unit.boot && !(error instanceof RolledBackError)) this.allHealthy.fail(lane.place, firstLine(error))
      // A connect that fails (a wrong host key, a refused login) is not a lost connection: nothing to recover.
      const lost = current?.kind !== 'connect' && (this.connectionLost(lane.place) || isConnectionError(error))
      const recovered = lost ? await this.reconnect(lane.place) : true
      if (recovered) await this.afterFailure(stage, lane, unit, values, log, error)
      if (!unit.boot) throw lost ? new Error(`${lane.place}: the SSH connection was lost during ${stepName(current)} (${stage.title}); ${recovered ? 'reconnected' : 'the host stayed unreachable'}. ${error instanceof Error ? error.message : String(error)}`) : error
      const role = unit.role ?? ''
      const old = values.get('old_version')
      const serves = values.get('took_traffic') ? `${unit.boot.version} (new)` : old ? `${old} (old)` : 'no version of this role'
      const connection = lost ? `the SSH connection was lost during ${stepName(current)}; ${recovered ? `reconnected; serves ${serves}` : 'the host stayed unreachable, so what it serves is unknown'}. ` : ''
      const detail = `${connection}${error instanceof Error ? error.message : String(error)}`
      const bootError = error instanceof CancelledError || error instanceof RolledBackError ? error : error instanceof BootError && !lost ? error : new BootError(lane.place, role, lost ? stepName(current) : failedStepName(error), detail, values.get('log_tail') || undefined)
      this.boots.push({
        host: lane.place,
        role,
        version: unit.boot.version,
        container: unit.boot.container,
        previousVersion: values.get('old_version') || undefined,
        ok: false,
        rolledBack: error instanceof RolledBackError || undefined,
        error: bootError.message,
        logTail: bootError instanceof BootError ? bootError.logTail : undefined,
      })
      throw bootError
    }
    if (unit.boot) {
      this.boots.push({
        host: lane.place,
        role: unit.role ?? '',
        version: unit.boot.version,
        container: unit.boot.container,
        previousVersion: values.get('old_version') || undefined,
        ok: true,
        healthSeconds: healthyAt !== undefined ? (healthyAt - started) / 1000 : undefined,
      })
    }
  }

  /** The unit's failure steps (stop the new container, keep its log tail); a primary failure closes the barrier. */
  private closeBarrierOnPrimaryFailure(lane: Lane, unit: Unit, error: unknown): void {
    const role = this.context.config.roles.find((item) => item.name === unit.role)
    if (unit.boot && role?.primary && this.barrier.close(lane.place, firstLine(error))) {
      this.say(`First ${this.context.config.primaryRoleName} container is unhealthy on ${lane.place}, not booting any other roles`)
    }
  }

  private async afterFailure(stage: Stage, lane: Lane, unit: Unit, values: Values, log: (line: string) => void, error: unknown): Promise<void> {
    for (const step of unit.onFailure ?? []) {
      try {
        await this.runStep(stage, lane, unit, step, values, log)
      } catch {
        // best effort: the first failure is the one reported
      }
    }
    if (error instanceof BootError && values.get('log_tail') && !error.logTail) Object.assign(error, { logTail: values.get('log_tail') })
  }

  /** Whether the host's SSH connection is gone (a cut, a killed session). */
  connectionLost(host: string): boolean {
    if (host === RUNNER) return false
    try {
      let lost = false
      this.context.pool.get(host).onLost(() => (lost = true))()
      return lost
    } catch {
      return true
    }
  }

  /** Reconnects with backoff (bounded: four tries over about eight seconds); false when the host stays unreachable. */
  async reconnect(host: string): Promise<boolean> {
    for (const delay of [250, 1000, 2500, 4000]) {
      await new Promise((resolve) => setTimeout(resolve, delay))
      try {
        await this.context.pool.reconnect([host])
        this.say(`Reconnected to ${host}`)
        return true
      } catch {
        // try again after the next delay
      }
    }
    return false
  }

  private shouldRun(step: Step, values: Values): boolean {
    const version = this.context.config.version
    const has = (name: string) => {
      const value = values.get(name)
      return value !== undefined && value !== '' && value !== version
    }
    if (step.when && !has(step.when)) return false
    if (step.unless && has(step.unless)) return false
    return true
  }

  private async runStep(stage: Stage, lane: Lane, unit: Unit, step: Step, values: Values, log: (line: string) => void): Promise<void> {
    const index = this.stepIndex.get(step) ?? -1
    const meta = { step: index, stage: stage.title, place: lane.place, role: unit.role }
    if (step.kind === 'runner' || step.kind === 'hook' || step.kind === 'sleep' || step.kind === 'ship' || step.kind === 'clone' || step.kind === 'builder-ssh' || step.kind === 'remove-directory' || step.kind === 'digest') {
      await runLocalStep(this, step, meta, log)
      return
    }
    if (step.kind === 'connect') {
      const startedAt = this.context.pool.earlyStart(lane.place) ?? Date.now()
      await this.context.pool.connect([lane.place])
      this.record.add({ ...meta, kind: 'connect', command: `ssh ${this.context.config.ssh.user}@${lane.place}`, outcome: 'ok', startedAt, endedAt: Date.now() })
      return
    }
    await runHostStep(this, step, values, meta, log)
  }
}

/** Errors that mean the SSH connection went away (ssh2 may throw before it emits 'close'). */
export function isConnectionError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error)
  if (/Not connected|No response from server|ECONNRESET|EPIPE|socket hang up|connection (was )?(lost|closed)|Channel open failure/i.test(message)) return true
  const result = (error as { result?: { code?: number; stderr?: string; stdout?: string } }).result
  return result?.code === 255 && !result.stderr?.trim() && !result.stdout?.trim()
}

/** An error's first line: what a barrier tells the hosts waiting on it. */
function firstLine(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error)
}

function stepName(step: Step | undefined): string {
  if (!step) return 'the boot'
  if (step.kind === 'exec') return step.label ?? step.command.split(' ').slice(0, 2).join(' ')
  if (step.kind === 'upload') return `the upload of ${step.path}`
  return step.kind
}

function failedStepName(error: unknown): string {
  const step = (error as { step?: string }).step
  return typeof step === 'string' && step ? step : 'boot'
}

/** One lane of one stage (or a registry-free ship with its pull stage), and what must be done before it starts. */
export interface ScheduledNode {
  stage: Stage
  stageIndex: number
  lane?: Lane
  /** registry-free: the pull stage the ship stage serves, run as one node */
  pull?: Stage
  /** waits for every earlier node (and for background steps) */
  barrier: boolean
  after: ScheduledNode[]
}

/**
 * The plan's stages as nodes with their dependencies (see Stage.sync): a barrier stage's
 * lanes wait for every earlier node; a pipelined stage's lanes wait for the earlier nodes
 * on their own place, for every node up to the last barrier, and for the stages they need.
 */
export function scheduleNodes(stages: Stage[]): ScheduledNode[] {
  const nodes: ScheduledNode[] = []
  let sinceBarrier: ScheduledNode[] = []
  let barrierNodes: ScheduledNode[] = []
  const byId = new Map<string, ScheduledNode[]>()
  for (let index = 0; index < stages.length; index++) {
    const stage = stages[index]
    const shipping = stage.lanes.some((lane) => lane.units.some((unit) => unit.steps.some((step) => step.kind === 'ship')))
    const pipelined = stage.sync === 'place' && !shipping
    const needs = (stage.needs ?? []).flatMap((id) => {
      // A need on a stage planned later would wait for nothing; one this plan has not (no build when skipping the push) is met.
      if (!byId.has(id) && stages.slice(index + 1).some((later) => later.id === id)) throw new Error(`Plan error: stage "${stage.title}" needs "${id}", which comes after it`)
      return byId.get(id) ?? []
    })
    const made: ScheduledNode[] = []
    if (shipping) {
      const pull = stages[index + 1]
      made.push({ stage, stageIndex: index, pull, barrier: true, after: [...barrierNodes, ...sinceBarrier] })
      if (pull) index++
    } else {
      for (const lane of stage.lanes) {
        const samePlace = sinceBarrier.filter((node) => node.lane?.place === lane.place && (!stage.placeAfter || (node.stage.id !== undefined && stage.placeAfter.includes(node.stage.id))))
        const after = pipelined ? [...barrierNodes, ...samePlace, ...needs] : [...barrierNodes, ...sinceBarrier]
        made.push({ stage, stageIndex: index, lane, barrier: !pipelined, after: [...new Set(after)] })
      }
    }
    if (stage.id) byId.set(stage.id, made)
    nodes.push(...made)
    if (pipelined) sinceBarrier.push(...made)
    else {
      // An empty barrier stage still orders what comes after it.
      barrierNodes = made.length > 0 ? made : [...barrierNodes, ...sinceBarrier]
      sinceBarrier = []
    }
  }
  return nodes
}

/** At most `limit` holders at once. */
class Semaphore {
  private free: number
  private readonly waiting: Array<() => void> = []
  constructor(limit: number) {
    this.free = Math.max(1, limit)
  }

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--
      return
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve))
  }

  release(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.free++
  }
}

export async function executePlan(plan: Plan, context: ExecutionContext): Promise<ExecutionResult> {
  return new Execution(plan, context).run()
}
