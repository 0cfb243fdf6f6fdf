import * as core from '@actions/core'
import { AppCommands } from '../commands/app'
import { PruneCommands } from '../commands/prune'
import { pullCommands } from '../commands/registry'
import { shipThroughLocalRegistry } from '../transfer/local-registry'
import { bootAccessories, selectAccessories } from './accessories'
import { bootApp } from './boot'
import { bootstrapServers } from './bootstrap'
import { buildAndPush } from './build'
import { RunContext } from './context'
import { acquireLock, releaseLock } from './lock'
import { bootProxy } from './proxy-boot'
import type { DeployOutcome, DeployRequest } from './request'

export { BootError, CancelledError, LockHeldError } from './request'
export type { BootOutcome, DeployCommand, DeployOutcome, DeployRequest } from './request'

/**
 * `kamal deploy` / `setup` / `redeploy` / `rollback` (spec §1.1–§1.4), run for
 * real over SSH, hooks at Kamal's points (§7). The lock is released whatever
 * happens; post-deploy runs only after a successful deploy.
 */
export async function runDeploy(request: DeployRequest): Promise<DeployOutcome> {
  const context = new RunContext(request)
  const { command, targets, progress } = request
  // setup builds under the lock too; rollback neither builds nor pulls, so it locks first.
  const lockFirst = command === 'setup' || command === 'rollback'

  await context.hook('pre-connect')
  context.say(`Connecting to ${targets.hosts.join(', ')}...`)
  await request.pool.connect(targets.hosts)

  try {
    if (lockFirst) await acquireLock(context)
    if (command === 'setup') await bootstrapServers(context)
    if (command !== 'rollback') await deliverImage(context)
    context.checkCancelled()
    if (!lockFirst) await acquireLock(context)

    if (command === 'rollback' && (await rollbackTargetMissing(context))) return { unavailableVersion: true }
    await context.hook('pre-deploy')
    context.checkCancelled()
    if (command === 'deploy' || command === 'setup') await bootProxy(context)
    if (command === 'setup') await bootAccessories(context, selectAccessories(context, 'all'))
    if (command !== 'rollback') await stopStaleContainers(context)
    context.checkCancelled()
    await bootApp(context)
    if (command === 'deploy' || command === 'setup') await prune(context)
  } finally {
    if (context.lockHeld) await releaseLockKeepingError(context)
  }
  await context.hook('post-deploy', { runtimeSeconds: progress.elapsedSeconds() })
  return {}
}

/** Build and push on the runner (unless skipped), then pull on every app host. */
async function deliverImage(context: RunContext): Promise<void> {
  const { request, config, targets } = context
  if (!request.skipPush) {
    await context.hook('pre-build')
    context.say('Build and push app image...')
    await request.progress.phase('local', 'Build and push', (log) =>
      buildAndPush({ config, secrets: request.secrets, projectDir: request.projectDir, registryUser: request.registryUser, registryPassword: request.registryPassword, remoteBuilderSsh: request.remoteBuilderSsh, env: request.env, log }),
    )
  }
  context.checkCancelled()
  const pullOnHosts = () =>
    context.onHosts(targets.appHosts, 'Pull image', async (shell) => {
      await context.loginOn(shell)
      await shell.run(context.auditor.record(`Pulled image with version ${config.version}`))
      const [remove, pull, checkLabel] = pullCommands(config)
      await shell.run(remove, { allowFailure: true })
      await shell.run(pull, { step: 'docker pull' })
      await shell.run(checkLabel, { step: 'image label check' })
    })
  if (config.localRegistry) {
    const shipment = { config, hosts: targets.appHosts, connection: (host: string) => request.pool.get(host), say: (line: string) => context.say(line), bytesSent: request.bytesSent }
    await shipThroughLocalRegistry(shipment, pullOnHosts)
  } else {
    await pullOnHosts()
  }
}

async function releaseLockKeepingError(context: RunContext): Promise<void> {
  try {
    await releaseLock(context)
  } catch (error) {
    core.error(`Error releasing the deploy lock: ${error instanceof Error ? error.message : String(error)}. Release it with command: lock release.`)
  }
}

async function rollbackTargetMissing(context: RunContext): Promise<boolean> {
  const { config, targets } = context
  let missing = false
  await context.onHosts(targets.appHosts, 'Check rollback version', async (shell, host) => {
    for (const role of targets.roles.filter((item) => item.hosts.includes(host))) {
      const id = await shell.capture(new AppCommands(config, role, host).containerIdForVersion(config.version), { allowFailure: true })
      if (!id) missing = true
    }
  })
  if (missing) context.say(`The app version '${config.version}' is not available as a container (use 'kamal app containers' for available versions)`)
  return missing
}

async function stopStaleContainers(context: RunContext): Promise<void> {
  const { config, targets } = context
  context.say('Detect stale containers...')
  await context.onHosts(targets.appHosts, 'Stale containers', async (shell, host) => {
    for (const role of targets.roles.filter((item) => item.hosts.includes(host))) {
      const app = new AppCommands(config, role, host)
      const versions = (await shell.capture(app.listVersions(), { allowFailure: true })).split('\n').filter(Boolean)
      const current = await shell.capture(app.currentRunningVersion(), { allowFailure: true })
      for (const version of versions.filter((item) => item !== current)) await shell.run(app.stop(version), { allowFailure: true })
    }
  })
}

/** `kamal prune all` (spec §1.8): stopped containers beyond retain_containers, then unused images. */
export async function prune(context: RunContext): Promise<void> {
  const prune = new PruneCommands(context.config)
  context.say('Prune old containers and images...')
  await context.onHosts(context.targets.hosts, 'Prune', async (shell) => {
    await shell.run(context.auditor.record('Pruned containers'))
    await shell.run(prune.containers())
    await shell.run(context.auditor.record('Pruned images'))
    await shell.run(prune.danglingImages())
    await shell.run(prune.taggedImages())
  })
}
