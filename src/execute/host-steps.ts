/** The executor of host steps: one SSH command (or upload) at a time, each written to the record. */
import { randomBytes } from 'node:crypto'
import { parseServingVersion, parseStaleSurvey } from '../commands/app'
import { lockDetails, mimeBase64 } from '../commands/lock'
import { bootstrapHost, dockerMissingMessage } from '../commands/server'
import { compareVersions } from '../config/model'
import { RemoteCommandError } from '../deploy/hosts'
import { BootError, LockHeldError } from '../deploy/request'
import type { RemoteResult } from '../remote/ssh-connection'
import { uploadLine, type HostStep, type StdinSource } from '../plan/steps'
import type { Execution } from './executor'
import { fillPlaceholders, type Values } from './placeholders'
import type { RecordEntry } from './record'
import { uploadContent } from './upload-content'

/** Thrown by a skip-if step: the rest of the unit is not needed. */
export class UnitSkipped extends Error {}

export interface StepMeta {
  step: number
  stage: string
  place: string
  role?: string
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function runHostStep(execution: Execution, step: HostStep, values: Values, meta: StepMeta, log: (line: string) => void): Promise<void> {
  const { context } = execution
  const host = meta.place
  const connection = context.pool.get(host)
  const secret = (name: string) => context.secrets.get(name)

  let lastEntry: RecordEntry | undefined
  /** Runs one command, logs it with its exit status and time, records it. */
  const run = async (template: string, options: { stdin?: StdinSource; allowFailure?: boolean; label?: string; kind?: string; onOutput?: (chunk: Buffer) => void } = {}): Promise<RemoteResult> => {
    const command = fillPlaceholders(template, values, secret)
    const startedAt = Date.now()
    const result = await connection.exec(command, { stdin: options.stdin ? stdinValue(options.stdin) : undefined, onOutput: options.onOutput })
    const endedAt = Date.now()
    const shown = context.redact(command)
    log(`$ ${shown}`)
    if (result.code !== 0) for (const line of context.redact(`${result.stdout}${result.stderr}`).trimEnd().split('\n').filter(Boolean).slice(-20)) log(`  ${line}`)
    log(`  → exit ${result.code} in ${((endedAt - startedAt) / 1000).toFixed(2)}s`)
    lastEntry = { ...meta, kind: options.kind ?? step.kind, command, outcome: result.code === 0 ? 'ok' : options.allowFailure ? 'tolerated' : 'failed', code: result.code, startedAt, endedAt }
    execution.record.add(lastEntry)
    if (result.code !== 0 && !options.allowFailure) throw new RemoteCommandError(host, shown, { ...result, stderr: context.redact(result.stderr), stdout: context.redact(result.stdout) }, options.label)
    return result
  }
  const capture = async (template: string, options: Parameters<typeof run>[1] = {}) => (await run(template, options)).stdout.trim()
  /** Stale versions, one stop each (its failure is fine: the container may be gone already). */
  const stopEach = async (versions: string[], stop: string) => {
    for (const version of versions) {
      values.set('stale_version', version)
      await run(stop, { allowFailure: true })
    }
  }
  const stdinValue = (source: StdinSource): string => ('registryPassword' in source ? context.registryPassword ?? '' : 'secret' in source ? secret(source.secret) : source.literal)

  switch (step.kind) {
    case 'exec': {
      const running = run(step.command, { stdin: step.stdin, allowFailure: step.allowFailure || step.tolerate !== undefined, label: step.label })
      if (step.watch) {
        const exited = await untilExited(running, () => capture(step.watch as string, { allowFailure: true, kind: 'watch' }))
        if (exited) throw new ContainerExitedError(host, step.label ?? 'boot', exited)
      }
      const result = await running
      if (result.code !== 0 && step.tolerate !== undefined && !step.allowFailure && !new RegExp(step.tolerate).test(result.stderr)) {
        throw new RemoteCommandError(host, context.redact(fillPlaceholders(step.command, values, secret)), result, step.label)
      }
      if (step.capture) {
        const output = result.code === 0 ? result.stdout.trim() : ''
        const value = step.captureLength ? output.slice(0, step.captureLength) : output
        if (!value && step.emptyIsError) throw new Error(step.emptyIsError)
        values.set(step.capture, value)
      }
      if (step.captureLastLine) values.set(step.captureLastLine, result.code === 0 ? (result.stdout.trim().split('\n').pop() ?? '').trim() : '')
      return
    }
    case 'upload': {
      const startedAt = Date.now()
      await connection.upload(step.path, uploadContent(step.content, host, { config: context.config, secrets: context.secrets, projectDir: context.projectDir, env: context.env }), step.mode, step.directory)
      log(uploadLine(step, { described: true }))
      execution.record.add({ ...meta, kind: 'upload', command: uploadLine(step), outcome: 'ok', startedAt, endedAt: Date.now() })
      return
    }
    case 'lock': {
      const details = lockDetails({ lockedBy: context.lockedBy, at: new Date(), version: context.config.version, message: step.message })
      values.set('lock_details', mimeBase64(details))
      const acquired = await run(step.command, { allowFailure: true })
      if (acquired.code === 0) {
        execution.lockHeld = true
        context.onLock?.({ host, directory: step.command.split(' ')[1] })
        return
      }
      if (/cannot create directory|File exists/i.test(acquired.stderr)) {
        const status = await run(step.status, { allowFailure: true, kind: 'lock-status' })
        throw new LockHeldError(host, status.stdout.trim())
      }
      throw new Error(`Could not take the deploy lock on ${host}: ${acquired.stderr.trim()}`)
    }
    case 'proxy-version': {
      const answer = await capture(step.command, { allowFailure: true })
      const [state, running] = step.running ? splitState(answer) : ['', answer]
      if (running && /^v?\d/.test(running) && compareVersions(running, step.minimum) < 0) {
        throw new Error(`kamal-proxy version ${running} is too old, run \`kamal proxy reboot\` in order to update to at least ${step.minimum}`)
      }
      if (step.running && state === 'true') values.set(step.running, 'yes')
      return
    }
    case 'stale': {
      const survey = parseStaleSurvey(await capture(step.survey, { allowFailure: true }))
      let { current } = survey
      let stale = survey.versions.filter((item) => item !== current)
      if (stale.length > 0 && step.serving) {
        const { command, service, containerPrefix } = step.serving
        const serving = parseServingVersion(await capture(command, { allowFailure: true, label: 'kamal-proxy list' }), service, containerPrefix)
        if (serving && stale.includes(serving)) {
          log(`kamal-proxy routes ${service} to ${serving}, not to ${current || 'the latest image'}: ${serving} is the current version (the one the boot replaces)${current ? `, ${current} is stale` : ''}`)
          stale = [...stale.filter((item) => item !== serving), ...(current ? [current] : [])]
          current = serving
        }
      }
      if (step.currentInto) values.set(step.currentInto, current)
      if (step.staleInto) values.set(step.staleInto, stale.join('\n'))
      else await stopEach(stale, step.stop)
      return
    }
    case 'stop-stale':
      await stopEach((values.get(step.versionsFrom) ?? '').split('\n').filter(Boolean), step.stop)
      return
    case 'clash': {
      if (!(await capture(step.find, { allowFailure: true }))) return
      await run(step.audit)
      await run(step.rename, { label: 'rename clashing container' })
      if (step.renamedInto) values.set(step.renamedInto, 'yes')
      return
    }
    case 'barrier-wait': {
      execution.say(`Waiting for the first healthy ${step.primaryRole} container before booting ${meta.role} on ${host}...`)
      const waitedFrom = Date.now()
      const decision = await execution.barrier.decision
      execution.record.add({ ...meta, kind: 'barrier-wait', command: `wait for the first healthy ${step.primaryRole} container (${decision.host}: ${decision.healthy ? 'healthy' : 'failed'})`, outcome: decision.healthy ? 'ok' : 'failed', startedAt: waitedFrom, endedAt: Date.now() })
      if (!decision.healthy) {
        throw new BootError(host, meta.role ?? '', 'barrier', `First ${step.primaryRole} container is unhealthy on ${decision.host}, not booting ${meta.role} on ${host}${decision.reason ? ` (${decision.host}: ${decision.reason})` : ''}`)
      }
      execution.say(`First ${step.primaryRole} container is healthy, booting ${meta.role} on ${host}...`)
      return
    }
    case 'all-healthy': {
      const waitedFrom = Date.now()
      execution.allHealthy.arrive(host)
      const decision = await execution.allHealthy.decision
      execution.record.add({ ...meta, kind: 'all-healthy', command: `wait until every boot is healthy (${decision.healthy ? 'all healthy' : `${decision.host} failed`})`, outcome: decision.healthy ? 'ok' : 'failed', startedAt: waitedFrom, endedAt: Date.now() })
      if (!decision.healthy) throw new RolledBackError(host, meta.role ?? '', decision.host, decision.reason ?? '')
      return
    }
    case 'barrier-open': {
      if (execution.barrier.open(host)) execution.say(`First ${context.config.primaryRoleName} container is healthy on ${host}, booting any other roles`)
      return
    }
    case 'health': {
      const state = await waitUntilReady(step, (command) => capture(command, { allowFailure: true }), step.initial ? values.get(step.initial) : undefined)
      if (state === 'exited' || state === 'dead' || state === 'restarting') throw new ContainerExitedError(host, 'readiness', await capture(step.watch, { allowFailure: true, kind: 'watch' }))
      return
    }
    case 'ensure-docker': {
      const outcome = await bootstrapHost(async (command) => (await run(command, { allowFailure: true })).code === 0)
      if (outcome === 'missing') throw new Error(dockerMissingMessage([host]))
      // Adding the login to the docker group ends its SSH session; start a fresh one.
      if (outcome === 'installed') await context.pool.reconnect([host])
      return
    }
    case 'skip-if': {
      if (await capture(step.command, { allowFailure: true })) {
        if (lastEntry) lastEntry.outcome = 'skipped'
        execution.say(step.message)
        throw new UnitSkipped(step.message)
      }
      return
    }
    case 'require-version': {
      if (await capture(step.command, { allowFailure: true })) return
      if (!execution.unavailableVersion) execution.say(`The app version '${context.config.version}' is not available as a container (use 'kamal app containers' for available versions)`)
      execution.unavailableVersion = true
      return
    }
    case 'serving': {
      const table = await capture(step.command, { allowFailure: true })
      const id = values.get('container_id') ?? ''
      const row = table.split('\n').find((line) => line.split(/\s+/)[0] === step.service)
      if (id && row && row.includes(id.slice(0, 12))) values.set('took_traffic', 'yes')
      return
    }
    case 'stream': {
      if (!values.has('exec_hex')) values.set('exec_hex', randomBytes(3).toString('hex'))
      const chunks: Buffer[] = []
      const lines = new LineSplitter((text) => execution.say(context.redact(step.prefixLines ? `${host} | ${text}` : text)))
      execution.say(step.heading)
      const result = await run(step.command, { allowFailure: true, onOutput: (chunk) => (chunks.push(chunk), lines.push(chunk)) })
      lines.end()
      const output = Buffer.concat(chunks).toString('utf8')
      execution.outputs.push({ host, heading: step.heading, text: context.redact(step.rawOutput ? output : output.trim()), code: result.code })
      if (result.code !== 0) throw new CommandExitError(host, result.code)
      return
    }
    case 'show': {
      const result = await run(step.command, { allowFailure: step.otherwise !== undefined })
      const text = result.code === 0 ? context.redact(result.stdout.trim()) : (step.otherwise ?? '')
      execution.say(step.heading)
      for (const line of text.split('\n')) execution.say(line)
      execution.say('')
      execution.outputs.push({ host, heading: step.heading, text, code: result.code })
      return
    }
    case 'share': {
      const result = await run(step.command, { allowFailure: step.allowFailure })
      const output = result.code === 0 ? result.stdout.trim() : ''
      const kept = output !== '' && (step.keepIf === undefined || new RegExp(step.keepIf).test(output))
      const value = kept ? output : step.fallback
      if (value !== undefined && !execution.shared.has(step.name)) {
        execution.shared.set(step.name, value)
        values.set(step.name, value)
        if (kept && step.message) execution.say(step.message)
      }
      return
    }
    case 'report': {
      const result = await run(step.command, { allowFailure: true })
      if (result.code === 0) execution.message = step.success ?? result.stdout.trim()
      else if (step.otherwise && result.stderr.includes(step.otherwise.stderr)) execution.message = step.otherwise.message
      else throw new RemoteCommandError(host, step.command, result)
      return
    }
  }
}

/** `true basecamp/kamal-proxy:v0.9.2` → ['true', 'v0.9.2'] (the image's tag, as Kamal's version check reads it); nothing → ['', '']. */
export function splitState(answer: string): [string, string] {
  const [state = '', image = ''] = answer.trim().split(/\s+/)
  return [state, image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : image]
}

/** All-or-nothing: this boot was healthy, another failed, so this host goes back to its previous version. */
export class RolledBackError extends Error {
  constructor(
    readonly host: string,
    readonly role: string,
    readonly failedHost: string,
    reason: string,
  ) {
    super(`rolled back ${role} on ${host} to the previous version: ${failedHost} failed (all-or-nothing)${reason ? `: ${reason}` : ''}`)
    this.name = 'RolledBackError'
  }
}

/** A command run for its output (`app exec`) exited non-zero: the run ends with its status. */
export class CommandExitError extends Error {
  constructor(
    readonly host: string,
    readonly code: number,
  ) {
    super(`the command exited with status ${code} on ${host}`)
    this.name = 'CommandExitError'
  }
}

/** Whole lines out of a stream of chunks; the unfinished last line on end(). */
class LineSplitter {
  private pending = ''
  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer): void {
    const parts = (this.pending + chunk.toString('utf8')).split('\n')
    this.pending = parts.pop() ?? ''
    for (const part of parts) this.emit(part.replace(/\r$/, ''))
  }

  end(): void {
    if (this.pending) this.emit(this.pending)
    this.pending = ''
  }
}

/** The new container stopped while it was booting; carries `<status> <exit code>`. */
export class ContainerExitedError extends Error {
  constructor(
    readonly host: string,
    readonly step: string,
    state: string,
  ) {
    const [status, code, restarts] = state.split(' ')
    const restarting = Number(restarts) > 0 ? ` (restarted ${restarts} time${restarts === '1' ? '' : 's'} by its restart policy)` : ''
    // A container back up after a restart reports exit code 0: say only that it exited.
    const how = status === 'dead' ? 'died' : code && code !== '0' ? `exited with status ${code}` : 'exited'
    super(`the new container ${how} while booting${restarting}`)
    this.name = 'ContainerExitedError'
  }
}

/**
 * Waits for `running` while polling the container every second; resolves with
 * the container's `<status> <code>` as soon as it has exited, or undefined when
 * `running` settles first. A rejection of `running` is left to the caller.
 */
async function untilExited(running: Promise<unknown>, state: () => Promise<string>): Promise<string | undefined> {
  let settled = false
  running.then(() => (settled = true), () => (settled = true))
  while (!settled) {
    // The wait ends with the command: no timer left behind to hold the process open after the run.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([running.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, 1000)))])
    clearTimeout(timer)
    if (settled) return undefined
    const current = await state().catch(() => '')
    if (containerExited(current)) return exitCodeOf(current, state)
  }
  return undefined
}

/**
 * A container back up after a restart reports exit code 0; the code it exited with shows while it
 * waits to be restarted (Docker's backoff). Look a few more times, briefly, to name the real status.
 */
async function exitCodeOf(first: string, state: () => Promise<string>): Promise<string> {
  let current = first
  for (let look = 0; look < 15 && current.split(' ')[1] === '0' && current.startsWith('running'); look++) {
    await sleep(100)
    current = (await state().catch(() => '')) || current
  }
  return current
}

/** `<status> <exit code> <restarts>`: stopped, or restarted by `--restart unless-stopped` after an exit. */
export function containerExited(state: string): boolean {
  const [status, , restarts] = state.trim().split(' ')
  return status === 'exited' || status === 'dead' || Number(restarts) > 0
}

/** Non-proxied roles: poll until healthy, or still running after `readiness_delay` (spec §1.5). A container that exits ends the wait at once. */
/** `first`: the answer to the first poll, already asked for in the exec of the `docker run`. */
async function waitUntilReady(step: Extract<HostStep, { kind: 'health' }>, status: (command: string) => Promise<string>, first?: string): Promise<string> {
  const deadline = Date.now() + step.deployTimeout * 1000
  let state: string
  for (let attempt = 1; ; attempt++) {
    state = (attempt === 1 && first) || (await status(step.command))
    if (state === 'healthy') return state
    if (state === 'running') {
      if (step.readinessDelay === 0) return state
      await sleep(step.readinessDelay * 1000)
      state = await status(step.command)
      if (state === 'running' || state === 'healthy') return state
    }
    if (state === 'exited' || state === 'dead' || state === 'restarting') return state
    if (Date.now() >= deadline) break
    // Kamal sleeps 1 s, 2 s, 3 s…; a read-only poll this cheap can look sooner (0.2 s, 0.4 s, … up to 1 s).
    await sleep(Math.min(attempt * 200, 1000, Math.max(deadline - Date.now(), 0)))
  }
  throw new Error(`container not ready after ${step.deployTimeout} seconds (${state || 'unknown'})`)
}
