import { AppCommands } from '../commands/app'
import { Auditor } from '../commands/auditor'
import { combine, makeDirectory } from '../commands/base'
import { buildCommand } from '../commands/builder'
import { envFileKeys } from '../commands/env-file'
import { LockCommands } from '../commands/lock'
import { PruneCommands } from '../commands/prune'
import { createNetwork, ensureProxyAppsDirectory, proxyDeploy, proxyImageVersion, proxyStartOrRun } from '../commands/proxy'
import { pullCommands, registryLogin } from '../commands/registry'
import type { KamalConfig } from '../config/model'
import type { Targets } from './targets'

export type PlanCommand = 'deploy' | 'redeploy' | 'rollback'

export const PHASES = ['build', 'pull', 'lock', 'proxy', 'stale', 'boot', 'tag', 'prune', 'unlock'] as const
export type Phase = (typeof PHASES)[number]

export const LOCAL = 'local'

/** One thing the deploy will do, where, and in which phase. Commands contain no secret values. */
export interface PlanStep {
  phase: Phase
  host: string
  role?: string
  run?: string
  upload?: { path: string; mode: string; keys: string[] }
  note?: string
}

export interface DeployPlan {
  command: PlanCommand
  service: string
  destination?: string
  version: string
  image: string
  primaryHost: string
  hosts: string[]
  roles: string[]
  steps: PlanStep[]
}

export interface PlanOptions {
  command: PlanCommand
  skipPush: boolean
  performer: string
  /** the registry username as shown (a secret name is shown, never its value) */
  registryUser: string
  now?: () => Date
}

/** The ordered steps of `kamal deploy|redeploy|rollback` (spec §1.1, §1.3, §1.4, §1.5), as data. */
export function buildDeployPlan(config: KamalConfig, targets: Targets, options: PlanOptions): DeployPlan {
  const steps: PlanStep[] = []
  const add = (step: PlanStep) => steps.push(step)
  const auditor = new Auditor(config, options.performer, options.now)
  const lock = new LockCommands(config)
  const login = registryLogin(config, options.registryUser)
  const { command } = options

  if (command !== 'rollback') {
    if (!options.skipPush) add({ phase: 'build', host: LOCAL, run: buildCommand(config, { redactArgs: true }), note: 'build and push the image' })
    for (const host of targets.appHosts) {
      if (login) add({ phase: 'pull', host, run: login, note: 'password on stdin' })
      add({ phase: 'pull', host, run: auditor.record(`Pulled image with version ${config.version}`) })
      for (const run of pullCommands(config)) add({ phase: 'pull', host, run })
    }
  }

  for (const host of targets.hosts) add({ phase: 'lock', host, run: makeDirectory('.kamal') })
  add({ phase: 'lock', host: targets.primaryHost, run: lock.acquire('<lock details>').replace(/echo ".*"/s, 'echo "<base64 lock details>"'), note: 'Automatic deploy lock' })

  if (command === 'rollback') {
    for (const role of targets.roles) {
      for (const host of role.hosts) {
        add({ phase: 'lock', host, role: role.name, run: new AppCommands(config, role, host).containerIdForVersion(config.version), note: 'the version must exist as a container' })
      }
    }
  }

  if (command === 'deploy') {
    for (const host of targets.hosts) add({ phase: 'proxy', host, run: createNetwork(), note: "'already exists' is fine" })
    for (const host of targets.proxyHosts) {
      if (login) add({ phase: 'proxy', host, run: login, note: 'password on stdin' })
      add({ phase: 'proxy', host, run: proxyImageVersion(), note: 'must be v0.9.2 or newer' })
      add({ phase: 'proxy', host, run: ensureProxyAppsDirectory() })
      add({ phase: 'proxy', host, run: proxyStartOrRun(config, host) })
    }
  }

  if (command !== 'rollback') {
    for (const role of targets.roles) {
      for (const host of role.hosts) {
        const app = new AppCommands(config, role, host)
        add({ phase: 'stale', host, role: role.name, run: app.listVersions() })
        add({ phase: 'stale', host, role: role.name, note: 'stop every running version other than the current one' })
      }
    }
  }

  for (const role of targets.roles) {
    for (const host of role.hosts) {
      const app = new AppCommands(config, role, host)
      const step = (run: string | undefined, note?: string, upload?: PlanStep['upload']) => add({ phase: 'boot', host, role: role.name, run, note, upload })
      step(app.containerIdForVersion(config.version), `rename to ${app.containerName()}_replaced_<hex> if it exists`)
      step(app.currentRunningVersion(), 'the version to stop afterwards')
      if (!role.primary) step(undefined, `wait until the first ${config.primaryRoleName} container is healthy`)
      step(auditor.record(`Booted app version ${config.version}`, { role: role.name }))
      step(app.ensureEnvDirectory())
      const env = config.envFor(role, host)
      step(undefined, undefined, { path: app.envFilePath, mode: '0600', keys: envFileKeys(env) })
      step(app.run({ env, hostname: `${hostnamePrefix(host)}-<12 hex>` }))
      if (role.proxy) {
        step(app.containerIdForVersion(config.version), 'the new container id')
        step(proxyDeploy(config, role, '<container id>'), 'kamal-proxy health-checks the new container, switches traffic, drains the old one')
      } else {
        step(app.status(config.version), `poll until healthy, or running after ${config.readinessDelay}s (timeout ${config.deployTimeout}s)`)
      }
      step(app.stop('<old version>'), 'if an old version was running')
    }
  }

  for (const host of targets.appHosts) {
    const app = new AppCommands(config, targets.roles[0], host)
    add({ phase: 'tag', host, run: combine([auditor.record(`Tagging ${config.absoluteImage} as the latest image`), app.tagLatestImage()]) })
  }

  if (command === 'deploy') {
    const prune = new PruneCommands(config)
    for (const host of targets.hosts) {
      add({ phase: 'prune', host, run: auditor.record('Pruned containers') })
      add({ phase: 'prune', host, run: prune.containers() })
      add({ phase: 'prune', host, run: auditor.record('Pruned images') })
      add({ phase: 'prune', host, run: prune.danglingImages() })
      add({ phase: 'prune', host, run: prune.taggedImages() })
    }
  }

  add({ phase: 'unlock', host: targets.primaryHost, run: lock.release() })

  return {
    command,
    service: config.service,
    destination: config.destination,
    version: config.version,
    image: config.absoluteImage,
    primaryHost: targets.primaryHost,
    hosts: targets.hosts,
    roles: targets.roles.map((role) => role.name),
    steps,
  }
}

/** Kamal's container hostname prefix: the first 51 characters of the host, without a trailing dot. */
export function hostnamePrefix(host: string): string {
  return host.slice(0, 51).replace(/\.$/, '')
}

