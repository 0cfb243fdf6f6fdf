import { randomBytes } from 'node:crypto'
import { AppCommands } from '../commands/app'
import { Auditor } from '../commands/auditor'
import { makeDirectory } from '../commands/base'
import { envFileContent, envFileKeys } from '../commands/env-file'
import { LockCommands, lockDetails } from '../commands/lock'
import { PruneCommands } from '../commands/prune'
import { createNetwork, ensureProxyAppsDirectory, proxyDeploy, proxyImageVersion, proxyStartOrRun } from '../commands/proxy'
import { pullCommands, registryLogin } from '../commands/registry'
import { compareVersions, DEFAULT_PROXY_IMAGE_VERSION, type KamalConfig, type Role } from '../config/model'
import { hostnamePrefix } from '../plan/deploy-plan'
import type { Targets } from '../plan/targets'
import type { Secrets } from '../secrets/load'
import type { BytesSent } from '../transfer/bytes-sent'
import { shipThroughLocalRegistry } from '../transfer/local-registry'
import { buildAndPush } from './build'
import { forEachLimited, type HostPool } from './hosts'
import type { Progress } from './progress'
import { RemoteShell } from './remote'

export type DeployCommand = 'deploy' | 'redeploy' | 'rollback'

export interface DeployRequest {
  command: DeployCommand
  config: KamalConfig
  targets: Targets
  secrets: Secrets
  pool: HostPool
  progress: Progress
  projectDir: string
  performer: string
  lockedBy: string
  skipPush: boolean
  registryUser: string
  registryPassword?: string
  /** called once the lock is held / released, so the post step can release it if this step dies */
  onLock?: (state: { host: string; directory: string } | null) => void
  /** true once the job was asked to stop: no new host work starts */
  cancelled?: () => boolean
  /** how many hosts get work at once */
  parallelism?: number
  /** filled as roles boot (also on failure), for the summary */
  boots: BootOutcome[]
  /** filled by a registry-free (`registry.server: localhost:PORT`) pull: host → bytes sent, for the `bytes-sent` output */
  bytesSent?: BytesSent
}

/** What happened to one role on one host. */
export interface BootOutcome {
  host: string
  role: string
  previousVersion?: string
  version: string
  container: string
  ok: boolean
  healthSeconds?: number
  error?: string
  logTail?: string
}

export interface DeployOutcome {
  /** a rollback target that does not exist: Kamal prints it and exits 0 */
  unavailableVersion?: boolean
}

/** Raised when a role fails to boot on a host; carries what the annotation needs. */
export class BootError extends Error {
  constructor(
    readonly host: string,
    readonly role: string,
    readonly step: string,
    detail: string,
    readonly logTail?: string,
  ) {
    super(`Failed to boot ${role} on ${host} (${step}): ${detail}${logTail ? `\nLast log lines of the new container:\n${logTail}` : ''}`)
    this.name = 'BootError'
  }
}

export class LockHeldError extends Error {
  constructor(
    readonly host: string,
    readonly details: string,
  ) {
    super(
      `Deploy lock found on ${host}. Someone else is deploying, or an earlier deploy died holding it:\n${details || '(no lock details)'}\n` +
        `Wait for that deploy, or release the lock with 'kamal lock release' once you are sure nothing is deploying.`,
    )
    this.name = 'LockHeldError'
  }
}

export class CancelledError extends Error {
  constructor() {
    super('The deploy was cancelled: no further host work was started; every host keeps serving a healthy version.')
    this.name = 'CancelledError'
  }
}

/** One health decision shared by every host: non-primary roles boot only after the first primary container is healthy. */
class PrimaryBarrier {
  private settle!: (healthy: boolean) => void
  private decided = false
  readonly decision = new Promise<boolean>((resolve) => (this.settle = resolve))

  open(): boolean {
    return this.decide(true)
  }

  close(): boolean {
    return this.decide(false)
  }

  private decide(healthy: boolean): boolean {
    if (this.decided) return false
    this.decided = true
    this.settle(healthy)
    return true
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** `kamal deploy` / `redeploy` / `rollback` (spec §1.1, §1.3, §1.4, §1.5), run for real over SSH. */
export async function runDeploy(request: DeployRequest): Promise<DeployOutcome> {
  const { config, targets, progress, pool, command } = request
  const parallelism = request.parallelism ?? 30
  const auditor = new Auditor(config, request.performer)
  const lock = new LockCommands(config)
  const login = registryLogin(config, request.registryUser)
  const checkCancelled = () => {
    if (request.cancelled?.()) throw new CancelledError()
  }
  const onHosts = (hosts: string[], phase: string, work: (shell: RemoteShell, host: string) => Promise<void>) =>
    forEachLimited(hosts, parallelism, (host) => host, (host) => progress.phase(host, phase, (log) => work(new RemoteShell(pool.get(host), log), host)))

  progress.say(`Connecting to ${targets.hosts.join(', ')}...`)
  await pool.connect(targets.hosts)

  if (command !== 'rollback') {
    if (!request.skipPush) {
      progress.say('Build and push app image...')
      await progress.phase('local', 'Build and push', (log) =>
        buildAndPush({ config, secrets: request.secrets, projectDir: request.projectDir, registryUser: request.registryUser, registryPassword: request.registryPassword, log }),
      )
    }
    checkCancelled()
    const pullOnHosts = () =>
      onHosts(targets.appHosts, 'Pull image', async (shell) => {
        if (login) await shell.run(login, { stdin: request.registryPassword ?? '', step: 'docker login' })
        await shell.run(auditor.record(`Pulled image with version ${config.version}`))
        const [remove, pull, checkLabel] = pullCommands(config)
        await shell.run(remove, { allowFailure: true })
        await shell.run(pull, { step: 'docker pull' })
        await shell.run(checkLabel, { step: 'image label check' })
      })
    if (config.localRegistry) {
      const shipment = { config, hosts: targets.appHosts, connection: (host: string) => pool.get(host), say: (line: string) => progress.say(line), bytesSent: request.bytesSent }
      await shipThroughLocalRegistry(shipment, pullOnHosts)
    } else {
      await pullOnHosts()
    }
  }

  checkCancelled()
  progress.say('Acquiring the deploy lock...')
  await onHosts(targets.hosts, 'Prepare', async (shell) => void (await shell.run(makeDirectory('.kamal'))))
  await progress.phase(targets.primaryHost, 'Acquire deploy lock', async (log) => {
    const shell = new RemoteShell(pool.get(targets.primaryHost), log)
    const details = lockDetails({ lockedBy: request.lockedBy, at: new Date(), version: config.version, message: 'Automatic deploy lock' })
    const acquired = await shell.run(lock.acquire(details), { allowFailure: true })
    if (acquired.code !== 0) {
      if (/cannot create directory|File exists/i.test(acquired.stderr)) {
        const status = await shell.run(lock.status(), { allowFailure: true })
        throw new LockHeldError(targets.primaryHost, status.stdout.trim())
      }
      throw new Error(`Could not take the deploy lock on ${targets.primaryHost}: ${acquired.stderr.trim()}`)
    }
  })
  request.onLock?.({ host: targets.primaryHost, directory: lock.directory })

  try {
    if (command === 'rollback') {
      const missing = await rollbackTargetMissing(request, onHosts)
      if (missing) return { unavailableVersion: true }
    }
    checkCancelled()
    if (command === 'deploy') {
      progress.say('Ensure kamal-proxy is running...')
      await onHosts(targets.hosts, 'Network', async (shell) => {
        const created = await shell.run(createNetwork(), { allowFailure: true })
        if (created.code !== 0 && !/already exists/.test(created.stderr)) throw new Error(`docker network create kamal failed on ${shell.host}: ${created.stderr.trim()}`)
      })
      await onHosts(targets.proxyHosts, 'Ensure kamal-proxy', async (shell, host) => {
        if (login) await shell.run(login, { stdin: request.registryPassword ?? '', step: 'docker login' })
        const running = await shell.capture(proxyImageVersion(), { allowFailure: true })
        if (running && /^v?\d/.test(running) && compareVersions(running, DEFAULT_PROXY_IMAGE_VERSION) < 0) {
          throw new Error(`kamal-proxy version ${running} is too old, run \`kamal proxy reboot\` in order to update to at least ${DEFAULT_PROXY_IMAGE_VERSION}`)
        }
        await shell.run(ensureProxyAppsDirectory())
        await shell.run(proxyStartOrRun(config, host), { step: 'kamal-proxy start' })
      })
    }

    if (command !== 'rollback') {
      checkCancelled()
      progress.say('Detect stale containers...')
      await stopStaleContainers(request, onHosts)
    }

    checkCancelled()
    await bootAll(request, parallelism)

    await onHosts(targets.appHosts, 'Tag latest image', async (shell) => {
      await shell.run(auditor.record(`Tagging ${config.absoluteImage} as the latest image`))
      await shell.run(new AppCommands(config, targets.roles[0], shell.host).tagLatestImage())
    })

    if (command === 'deploy') {
      progress.say('Prune old containers and images...')
      const prune = new PruneCommands(config)
      await onHosts(targets.hosts, 'Prune', async (shell) => {
        await shell.run(auditor.record('Pruned containers'))
        await shell.run(prune.containers())
        await shell.run(auditor.record('Pruned images'))
        await shell.run(prune.danglingImages())
        await shell.run(prune.taggedImages())
      })
    }
    return {}
  } finally {
    progress.say('Releasing the deploy lock...')
    await progress.phase(targets.primaryHost, 'Release deploy lock', async (log) => {
      await new RemoteShell(pool.get(targets.primaryHost), log).run(lock.release(), { step: 'lock release' })
    })
    request.onLock?.(null)
  }
}

type OnHosts = (hosts: string[], phase: string, work: (shell: RemoteShell, host: string) => Promise<void>) => Promise<void>

async function rollbackTargetMissing(request: DeployRequest, onHosts: OnHosts): Promise<boolean> {
  const { config, targets } = request
  let missing = false
  await onHosts(targets.appHosts, 'Check rollback version', async (shell, host) => {
    for (const role of targets.roles.filter((item) => item.hosts.includes(host))) {
      const id = await shell.capture(new AppCommands(config, role, host).containerIdForVersion(config.version), { allowFailure: true })
      if (!id) missing = true
    }
  })
  if (missing) request.progress.say(`The app version '${config.version}' is not available as a container (use 'kamal app containers' for available versions)`)
  return missing
}

async function stopStaleContainers(request: DeployRequest, onHosts: OnHosts): Promise<void> {
  const { config, targets } = request
  await onHosts(targets.appHosts, 'Stale containers', async (shell, host) => {
    for (const role of targets.roles.filter((item) => item.hosts.includes(host))) {
      const app = new AppCommands(config, role, host)
      const versions = (await shell.capture(app.listVersions(), { allowFailure: true })).split('\n').filter(Boolean)
      const current = await shell.capture(app.currentRunningVersion(), { allowFailure: true })
      for (const version of versions.filter((item) => item !== current)) {
        await shell.run(app.stop(version), { allowFailure: true })
      }
    }
  })
}

/** Boot every (host, role): hosts in parallel, roles of a host in order, primary role first. Outcomes go to `request.boots`. */
async function bootAll(request: DeployRequest, parallelism: number): Promise<void> {
  const { config, targets, progress } = request
  const barrier = new PrimaryBarrier()
  const primaryBooting = targets.roles.some((role) => role.primary)
  progress.say(`Booting ${config.version} on ${targets.appHosts.join(', ')}...`)
  await forEachLimited(targets.appHosts, parallelism, (host) => host, async (host) => {
    for (const role of targets.roles.filter((item) => item.hosts.includes(host))) {
      try {
        const outcome = await progress.phase(host, 'Boot app', (log) => bootRole(request, new RemoteShell(request.pool.get(host), log), role, host, primaryBooting ? barrier : undefined), role.name)
        request.boots.push(outcome)
      } catch (error) {
        request.boots.push({
          host,
          role: role.name,
          version: config.version,
          container: `${role.containerPrefix}-${config.version}`,
          ok: false,
          error: error instanceof Error ? error.message : String(error),
          logTail: error instanceof BootError ? error.logTail : undefined,
        })
        throw error
      }
    }
  })
}

async function bootRole(request: DeployRequest, shell: RemoteShell, role: Role, host: string, barrier: PrimaryBarrier | undefined): Promise<BootOutcome> {
  const { config, progress } = request
  const app = new AppCommands(config, role, host)
  const auditor = new Auditor(config, request.performer)
  const version = config.version
  const container = app.containerName()
  const outcome: BootOutcome = { host, role: role.name, version, container, ok: false }
  const log = (line: string) => progress.say(line)

  const clash = await shell.capture(app.containerIdForVersion(version), { allowFailure: true })
  if (clash) {
    const renamed = `${container}_replaced_${randomBytes(8).toString('hex')}`
    await shell.run(auditor.record(`Renaming container ${version} to ${renamed.slice(role.containerPrefix.length + 1)}`, { role: role.name }))
    await shell.run(app.rename(container, renamed), { step: 'rename clashing container' })
  }
  const previous = (await shell.capture(app.currentRunningVersion(), { allowFailure: true })) || undefined
  outcome.previousVersion = previous

  if (barrier && !role.primary) {
    log(`Waiting for the first healthy ${config.primaryRoleName} container before booting ${role.name} on ${host}...`)
    if (!(await barrier.decision)) throw new BootError(host, role.name, 'barrier', `First ${config.primaryRoleName} container is unhealthy, not booting ${role.name} on ${host}`)
    log(`First ${config.primaryRoleName} container is healthy, booting ${role.name} on ${host}...`)
  }
  if (request.cancelled?.()) throw new CancelledError()

  const started = Date.now()
  let step = 'start container'
  try {
    await shell.run(auditor.record(`Booted app version ${version}`, { role: role.name }))
    await shell.run(app.ensureEnvDirectory())
    const env = config.envFor(role, host)
    const keys = envFileKeys(env)
    await shell.upload(app.envFilePath, envFileContent(env, (key) => request.secrets.get(key)), 0o600, keys.length > 0 ? keys.join(', ') : 'no secrets')
    const hostname = `${hostnamePrefix(host)}-${randomBytes(6).toString('hex')}`
    await shell.run(app.run({ env, hostname }), { step: 'docker run' })
    if (role.proxy) {
      step = 'kamal-proxy deploy'
      const id = await shell.capture(app.containerIdForVersion(version))
      if (!id) throw new Error(`Failed to get endpoint for ${role.name} on ${host}, did the container boot?`)
      await shell.run(proxyDeploy(config, role, id), { step: 'kamal-proxy deploy' })
    } else {
      step = 'readiness'
      await waitUntilReady(shell, app, version, config.readinessDelay, config.deployTimeout)
    }
    outcome.healthSeconds = (Date.now() - started) / 1000
    if (role.primary && barrier?.open()) log(`First ${config.primaryRoleName} container is healthy on ${host}, booting any other roles`)
  } catch (error) {
    const logTail = (await shell.capture(app.logs(version, 30), { allowFailure: true })) || undefined
    if (role.primary && barrier?.close()) log(`First ${config.primaryRoleName} container is unhealthy on ${host}, not booting any other roles`)
    await shell.run(app.stop(version), { allowFailure: true })
    const detail = error instanceof Error ? error.message : String(error)
    throw new BootError(host, role.name, step, detail, logTail)
  }

  if (previous && previous !== version) await shell.run(app.stop(previous), { allowFailure: true })
  outcome.ok = true
  return outcome
}

/** Non-proxied roles: poll until healthy, or still running after `readiness_delay` (spec §1.5). */
async function waitUntilReady(shell: RemoteShell, app: AppCommands, version: string, readinessDelay: number, deployTimeout: number): Promise<void> {
  const deadline = Date.now() + deployTimeout * 1000
  let status: string
  for (let attempt = 1; ; attempt++) {
    status = await shell.capture(app.status(version), { allowFailure: true })
    if (status === 'healthy') return
    if (status === 'running') {
      if (readinessDelay === 0) return
      await sleep(readinessDelay * 1000)
      status = await shell.capture(app.status(version), { allowFailure: true })
      if (status === 'running' || status === 'healthy') return
    }
    if (Date.now() >= deadline) break
    await sleep(Math.min(attempt * 1000, Math.max(deadline - Date.now(), 0)))
  }
  throw new Error(`container not ready after ${deployTimeout} seconds (${status || 'unknown'})`)
}
