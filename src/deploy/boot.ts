import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import { AppCommands } from '../commands/app'
import { makeDirectory } from '../commands/base'
import { cleanUpAssets, extractAssets, roleHasAssets, syncAssetVolumes } from '../commands/assets'
import { envFileContent, envFileKeys } from '../commands/env-file'
import { cleanUpErrorPages, errorPagesUpload } from '../commands/error-pages'
import { proxyDeploy } from '../commands/proxy'
import { createTlsDirectory, hasCustomCertificate, tlsUploads } from '../commands/tls'
import type { Role } from '../config/model'
import { bootPlan, bootSettings } from '../plan/boot-groups'
import { hostnamePrefix } from '../plan/deploy-plan'
import type { RunContext } from './context'
import { forEachLimited } from './hosts'
import type { RemoteShell } from './remote'
import { BootError, CancelledError, type BootOutcome } from './request'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

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

/**
 * `kamal app boot` (spec §1.5): files every host needs first (error pages,
 * assets, certificates), then the boot groups in order — pre-app-boot hook,
 * the group's (host, role) boots, post-app-boot hook, boot.wait — then the
 * `latest` tag on every app host.
 */
export async function bootApp(context: RunContext): Promise<void> {
  const { config, targets, request } = context
  await prepareHosts(context)

  const barrier = new PrimaryBarrier()
  const primaryBooting = targets.roles.some((role) => role.primary)
  const groups = bootPlan(bootSettings(config), targets.roles, targets.appHosts)
  for (const [index, group] of groups.entries()) {
    context.checkCancelled()
    context.say(`Booting ${config.version} on ${group.hostList}${groups.length > 1 ? ` (group ${index + 1} of ${groups.length})` : ''}...`)
    await context.hook('pre-app-boot', { hosts: group.hosts })
    await forEachLimited(group.lanes, request.parallelism ?? 30, (lane) => lane[0].host, async (lane) => {
      for (const { host, role } of lane) await bootRoleRecorded(context, host, role, primaryBooting ? barrier : undefined)
    })
    await context.hook('post-app-boot', { hosts: group.hosts })
    if (group.waitAfter) await sleep(group.waitAfter * 1000)
  }

  await context.onHosts(targets.appHosts, 'Tag latest image', async (shell) => {
    await shell.run(context.auditor.record(`Tagging ${config.absoluteImage} as the latest image`))
    await shell.run(new AppCommands(config, targets.roles[0], shell.host).tagLatestImage())
  })
}

/** Error pages, asset volumes and custom certificates, on every app host before any boot. */
async function prepareHosts(context: RunContext): Promise<void> {
  const { config, targets, request } = context
  const errorPages = errorPagesUpload(config, request.projectDir)
  const needsCertificates = targets.roles.some((role) => hasCustomCertificate(role))
  const needsAssets = targets.roles.some((role) => roleHasAssets(role))
  if (!errorPages && !needsCertificates && !needsAssets) return
  await context.onHosts(targets.appHosts, 'Prepare boot', async (shell, host) => {
    if (errorPages) {
      await shell.run(errorPages.createDirectory)
      await shell.run(makeDirectory(errorPages.versionDirectory))
      for (const file of errorPages.files) await shell.upload(file.remotePath, fs.readFileSync(file.localPath, 'utf8'), errorPages.mode, 'error page')
    }
    for (const role of targets.roles.filter((item) => item.hosts.includes(host))) {
      if (roleHasAssets(role)) {
        await shell.run(extractAssets(config, role), { step: 'asset extraction' })
        const old = (await shell.capture(new AppCommands(config, role, host).currentRunningVersion(), { allowFailure: true })) || undefined
        await shell.run(syncAssetVolumes(config, role, old), { step: 'asset sync' })
      }
      if (hasCustomCertificate(role)) {
        await shell.run(createTlsDirectory(config, role))
        for (const upload of tlsUploads(config, role, (key) => request.secrets.get(key))) await shell.upload(upload.path, upload.content, upload.mode, `from secret ${upload.secret}`)
      }
    }
  })
}

async function bootRoleRecorded(context: RunContext, host: string, role: Role, barrier: PrimaryBarrier | undefined): Promise<void> {
  const { config, request } = context
  try {
    const outcome = await request.progress.phase(host, 'Boot app', (log) => bootRole(context, context.shell(host, log), role, host, barrier), role.name)
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

/** The per-(host, role) boot of spec §1.5. */
async function bootRole(context: RunContext, shell: RemoteShell, role: Role, host: string, barrier: PrimaryBarrier | undefined): Promise<BootOutcome> {
  const { config, request, auditor } = context
  const app = new AppCommands(config, role, host)
  const version = config.version
  const container = app.containerName()
  const outcome: BootOutcome = { host, role: role.name, version, container, ok: false }

  const clash = await shell.capture(app.containerIdForVersion(version), { allowFailure: true })
  if (clash) {
    const renamed = `${container}_replaced_${randomBytes(8).toString('hex')}`
    await shell.run(auditor.record(`Renaming container ${version} to ${renamed.slice(role.containerPrefix.length + 1)}`, { role: role.name }))
    await shell.run(app.rename(container, renamed), { step: 'rename clashing container' })
  }
  const previous = (await shell.capture(app.currentRunningVersion(), { allowFailure: true })) || undefined
  outcome.previousVersion = previous

  if (barrier && !role.primary) {
    context.say(`Waiting for the first healthy ${config.primaryRoleName} container before booting ${role.name} on ${host}...`)
    if (!(await barrier.decision)) throw new BootError(host, role.name, 'barrier', `First ${config.primaryRoleName} container is unhealthy, not booting ${role.name} on ${host}`)
    context.say(`First ${config.primaryRoleName} container is healthy, booting ${role.name} on ${host}...`)
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
    if (role.primary && barrier?.open()) context.say(`First ${config.primaryRoleName} container is healthy on ${host}, booting any other roles`)
  } catch (error) {
    const logTail = (await shell.capture(app.logs(version, 30), { allowFailure: true })) || undefined
    if (role.primary && barrier?.close()) context.say(`First ${config.primaryRoleName} container is unhealthy on ${host}, not booting any other roles`)
    await shell.run(app.stop(version), { allowFailure: true })
    const detail = error instanceof Error ? error.message : String(error)
    throw new BootError(host, role.name, step, detail, logTail)
  }

  if (previous && previous !== version) {
    await shell.run(app.stop(previous), { allowFailure: true })
    if (roleHasAssets(role)) await shell.run(cleanUpAssets(config, role), { allowFailure: true })
    if (config.errorPagesPath) await shell.run(cleanUpErrorPages(config), { allowFailure: true })
  }
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
