/**
 * `kamal app boot` (spec §1.5) as plan stages: files every app host needs
 * first, then each boot group (pre-app-boot, the (host, role) boots,
 * post-app-boot, boot.wait), then the `latest` tag. Pure.
 */
import { AppCommands } from '../commands/app'
import type { Auditor } from '../commands/auditor'
import { makeDirectory, together } from '../commands/base'
import { cleanUpAssets, extractAssets, roleHasAssets, syncAssetVolumes } from '../commands/assets'
import { envFileKeys } from '../commands/env-file'
import { cleanUpErrorPages, type ErrorPagesUpload } from '../commands/error-pages'
import { proxyDeploy } from '../commands/proxy'
import { createTlsDirectory, hasCustomCertificate, tlsCertificatePath, tlsPrivateKeyPath, TLS_FILE_MODE } from '../commands/tls'
import type { KamalConfig, Role } from '../config/model'
import type { HookName } from '../hooks'
import { bootPlan, bootSettings } from './boot-groups'
import { placeholder, RUNNER, stageOn, type Lane, type Stage, type Step, type Unit } from './steps'
import type { Targets } from './targets'

export interface BootPlanContext {
  config: KamalConfig
  targets: Targets
  auditor: Auditor
  hooks: ReadonlySet<HookName>
  errorPages?: ErrorPagesUpload
  /** the clash check, the old version and the env file ran earlier, in beforeBootStage */
  prepared?: boolean
  /** the all-or-nothing input: old containers stay until every boot is healthy; any failure puts every switched host back */
  allOrNothing?: boolean
  /**
   * The stale-container check ran first on each host and kept the current running version as
   * old_version; it is asked again only after the clash check renamed a container (then Kamal's
   * answer is the renamed one).
   */
  oldVersionFromStale?: boolean
}

/** kamal-proxy's table of services and their targets. */
const PROXY_LIST = 'docker exec kamal-proxy kamal-proxy list'

/** Kamal's container hostname prefix: the first 51 characters of the host, without a trailing dot. */
export function hostnamePrefix(host: string): string {
  return host.slice(0, 51).replace(/\.$/, '')
}

export function bootStages(context: BootPlanContext): Stage[] {
  const { config, targets, hooks } = context
  const stages: Stage[] = []
  const prepare = prepareStage(context)
  if (prepare) stages.push(prepare)

  const primaryBooting = targets.roles.some((role) => role.primary)
  const groups = bootPlan(bootSettings(config), targets.roles, targets.appHosts)
  groups.forEach((group, index) => {
    const ofGroups = groups.length > 1 ? ` (group ${index + 1} of ${groups.length})` : ''
    if (hooks.has('pre-app-boot')) stages.push(stageOn('boot', `Hook pre-app-boot${ofGroups}`, RUNNER, [{ kind: 'hook', hook: 'pre-app-boot', hosts: group.hosts, changes: true }]))
    const lanes: Lane[] = group.lanes.map((lane) => ({ place: lane[0].host, units: lane.map(({ host, role }) => bootUnit(context, host, role, primaryBooting)) }))
    stages.push({ phase: 'boot', title: `Boot app${ofGroups}`, lanes, waitsFor: index > 0 ? `boot group ${index}` : undefined, announce: `Booting ${config.version} on ${group.hostList}${ofGroups}...` })
    if (hooks.has('post-app-boot')) stages.push(stageOn('boot', `Hook post-app-boot${ofGroups}`, RUNNER, [{ kind: 'hook', hook: 'post-app-boot', hosts: group.hosts, changes: true }]))
    if (group.waitAfter) stages.push(stageOn('boot', `Wait ${group.waitAfter}s (boot.wait)`, RUNNER, [{ kind: 'sleep', seconds: group.waitAfter, changes: false }]))
  })

  stages.push({
    phase: 'tag',
    title: 'Tag latest image',
    lanes: targets.appHosts.map((host) => ({
      place: host,
      units: [{ steps: [exec(together([context.auditor.record(`Tagging ${config.absoluteImage} as the latest image`), new AppCommands(config, targets.roles[0], host).tagLatestImage()]), { label: 'docker tag' })] }],
    })),
  })
  return stages
}

const exec = (command: string, extra: Partial<Extract<Step, { kind: 'exec' }>> = {}): Step => ({ kind: 'exec', command, changes: true, ...extra })

/** Error pages, asset volumes and custom certificates, on every app host before any boot. */
function prepareStage(context: BootPlanContext): Stage | undefined {
  const { config, targets, errorPages } = context
  const needsCertificates = targets.roles.some((role) => hasCustomCertificate(role))
  const needsAssets = targets.roles.some((role) => roleHasAssets(role))
  if (!errorPages && !needsCertificates && !needsAssets) return undefined
  const lanes = targets.appHosts.map((host): Lane => {
    const units: Unit[] = []
    if (errorPages) {
      units.push({
        steps: [
          exec(errorPages.createDirectory),
          exec(makeDirectory(errorPages.versionDirectory)),
          ...errorPages.files.map((file): Step => ({ kind: 'upload', path: file.remotePath, mode: errorPages.mode, content: { kind: 'local-file', path: file.localPath }, describe: 'error page', changes: true })),
        ],
      })
    }
    for (const role of targets.roles.filter((item) => item.hosts.includes(host))) {
      const steps: Step[] = []
      if (roleHasAssets(role)) {
        const old = placeholder('old_version')
        steps.push(exec(extractAssets(config, role), { label: 'asset extraction' }))
        steps.push({ kind: 'exec', command: new AppCommands(config, role, host).currentRunningVersion(), capture: 'old_version', allowFailure: true, changes: false, note: 'the running version shares its assets' })
        steps.push(exec(syncAssetVolumes(config, role, old), { label: 'asset sync', when: 'old_version' }))
        steps.push(exec(syncAssetVolumes(config, role), { label: 'asset sync', unless: 'old_version' }))
      }
      if (hasCustomCertificate(role)) {
        const ssl = tlsSecrets(role)
        steps.push(exec(createTlsDirectory(config, role)))
        steps.push({ kind: 'upload', path: tlsCertificatePath(config, role), mode: TLS_FILE_MODE, content: { kind: 'tls', role: role.name, secret: ssl.certificate }, describe: `from secret ${ssl.certificate}`, changes: true })
        steps.push({ kind: 'upload', path: tlsPrivateKeyPath(config, role), mode: TLS_FILE_MODE, content: { kind: 'tls', role: role.name, secret: ssl.privateKey }, describe: `from secret ${ssl.privateKey}`, changes: true })
      }
      if (steps.length > 0) units.push({ role: role.name, steps })
    }
    return { place: host, units }
  })
  return { phase: 'boot', title: 'Prepare boot', lanes: lanes.filter((lane) => lane.units.length > 0) }
}

/**
 * All-or-nothing, when this boot was healthy but another failed: kamal-proxy back to the old
 * container (health-checked as any deploy), then the new container stops; for a role without the
 * proxy the old container still runs, so only the new one stops.
 */
function rollBack(context: BootPlanContext, role: Role, app: AppCommands): Step[] {
  const steps: Step[] = []
  if (role.proxy) {
    steps.push({ kind: 'exec', command: `echo ${placeholder('old_container_id')}`, capture: 'rollback_target', allowFailure: true, changes: false, when: 'took_traffic', note: 'switch back only if this host switched and an old container exists' })
    steps.push(exec(proxyDeploy(context.config, role, placeholder('rollback_target')), { label: 'kamal-proxy deploy (back)', when: 'rollback_target', note: 'all-or-nothing: traffic back to the previous version' }))
  }
  steps.push(exec(app.stop(context.config.version), { allowFailure: true, when: 'took_traffic', note: 'all-or-nothing: the new container stops once the previous version serves again' }))
  return steps
}

function tlsSecrets(role: Role): { certificate: string; privateKey: string } {
  const certificate = role.proxy?.certificate
  return { certificate: certificate?.certificatePem ?? '', privateKey: certificate?.privateKeyPem ?? '' }
}

/**
 * What each (host, role) boot needs before its `docker run` and that neither the image nor
 * the primary role's health decides: the clash check, the running version, the env file. Run
 * under the lock while the image is still being built and pulled; the boot units read the
 * values (old_version) these units set on the same host and role.
 */
export function beforeBootStage(context: BootPlanContext): Stage {
  const { targets } = context
  return {
    phase: 'boot',
    title: 'Before boot',
    lanes: targets.appHosts.map((host) => ({
      place: host,
      units: targets.roles.filter((role) => role.hosts.includes(host)).map((role) => ({ role: role.name, steps: beforeBootSteps(context, host, role) })),
    })),
  }
}

function beforeBootSteps(context: BootPlanContext, host: string, role: Role): Step[] {
  const { config, auditor } = context
  const app = new AppCommands(config, role, host)
  const version = config.version
  const container = app.containerName()
  const replaced = `${container}_replaced_${placeholder('replaced')}`
  const env = config.envFor(role, host)
  const keys = envFileKeys(env)
  return [
    {
      kind: 'clash',
      role: role.name,
      find: app.containerIdForVersion(version),
      audit: auditor.record(`Renaming container ${version} to ${replaced.slice(role.containerPrefix.length + 1)}`, { role: role.name }),
      rename: app.rename(container, replaced),
      renamedInto: context.oldVersionFromStale ? 'clash_renamed' : undefined,
      changes: true,
      note: `rename to ${container}_replaced_<16 hex> if it exists`,
    },
    {
      kind: 'exec',
      command: app.currentRunningVersion(),
      capture: 'old_version',
      allowFailure: true,
      changes: false,
      ...(context.oldVersionFromStale ? { when: 'clash_renamed', note: 'the version to stop afterwards, asked again after the rename (else the stale check’s answer)' } : { note: 'the version to stop afterwards' }),
    },
    ...(context.allOrNothing && role.proxy
      ? [{ kind: 'exec', command: app.containerIdForVersion(placeholder('old_version')), capture: 'old_container_id', captureLength: 12, allowFailure: true, changes: false, when: 'old_version', note: 'all-or-nothing: the container to switch back to' } as Step]
      : []),
    // The env file is read only by the `docker run` of the boot, so it can be written before.
    { kind: 'upload', path: app.envFilePath, directory: app.envDirectory, mode: 0o600, content: { kind: 'role-env', role: role.name }, describe: keys.length > 0 ? keys.join(', ') : 'no secrets', changes: true },
  ]
}

/** The per-(host, role) boot of spec §1.5, its runtime decisions as named steps. */
export function bootUnit(context: BootPlanContext, host: string, role: Role, primaryBooting: boolean): Unit {
  const { config, auditor } = context
  const app = new AppCommands(config, role, host)
  const version = config.version
  const container = app.containerName()
  const env = config.envFor(role, host)
  const steps: Step[] = context.prepared ? [] : beforeBootSteps(context, host, role)
  if (primaryBooting && !role.primary) steps.push({ kind: 'barrier-wait', primaryRole: config.primaryRoleName, changes: false, note: `wait until the first ${config.primaryRoleName} container is healthy` })
  // The audit line and the `docker run` it announces in one exec. `docker run --detach` prints the
  // new container's id (the audit line prints nothing); its first 12 characters are what
  // `docker container ls --quiet` would answer.
  const run = together([auditor.record(`Booted app version ${version}`, { role: role.name }), app.run({ env, hostname: `${hostnamePrefix(host)}-${placeholder('hostname_hex')}` })])
  if (role.proxy) {
    steps.push(exec(run, { label: 'docker run', capture: 'container_id', captureLength: 12, emptyIsError: `Failed to get endpoint for ${role.name} on ${host}, did the container boot?`, note: 'its output is the new container id' }))
    steps.push(exec(proxyDeploy(config, role, placeholder('container_id')), { label: 'kamal-proxy deploy', watch: app.exitState(), note: 'kamal-proxy health-checks the new container, switches traffic, drains the old one; the container is watched and an exit fails the boot at once' }))
  } else {
    // The first status question goes with the `docker run`: one round trip fewer before the boot is known.
    steps.push(exec(together([run, app.statusByName(version)]), { label: 'docker run', captureLastLine: 'boot_status', note: 'then its first status' }))
    steps.push({ kind: 'health', command: app.status(version), initial: 'boot_status', watch: app.exitState(), readinessDelay: config.readinessDelay, deployTimeout: config.deployTimeout, changes: false, note: `poll until healthy, or running after ${config.readinessDelay}s (timeout ${config.deployTimeout}s)` })
  }
  if (primaryBooting && role.primary) steps.push({ kind: 'barrier-open', changes: false, note: 'the other roles may boot' })
  if (context.allOrNothing) steps.push({ kind: 'all-healthy', changes: false, note: 'all-or-nothing: every boot of the run healthy before any old container stops; a failure anywhere puts this host back' })
  // Its traffic has moved (kamal-proxy drained it), so only the host’s prune (Kamal prunes after the stop) and the end of the run wait for the stop.
  const cleanUpAfter = roleHasAssets(role) || Boolean(config.errorPagesPath)
  steps.push(exec(app.stopByName(placeholder('old_version')), { allowFailure: true, when: 'old_version', label: 'docker stop', background: !cleanUpAfter, note: cleanUpAfter ? 'if an old version was running' : 'stop the old version, if one was running (the host’s prune and the run’s end wait for it)' }))
  if (roleHasAssets(role)) steps.push(exec(cleanUpAssets(config, role), { allowFailure: true, when: 'old_version' }))
  if (config.errorPagesPath) steps.push(exec(cleanUpErrorPages(config), { allowFailure: true, when: 'old_version' }))

  return {
    role: role.name,
    steps,
    onFailure: [
      ...(role.proxy ? [{ kind: 'serving', command: PROXY_LIST, service: role.containerPrefix, changes: false, when: 'container_id', note: 'did kamal-proxy switch to the new container before the failure?' } as Step] : []),
      ...(context.allOrNothing ? rollBack(context, role, app) : []),
      { kind: 'exec', command: app.logs(version, 30), capture: 'log_tail', allowFailure: true, changes: false, unless: 'took_traffic', note: 'the new container’s last log lines' },
      exec(app.stop(version), { allowFailure: true, unless: 'took_traffic', note: 'stop the new container, unless it already serves; the old one keeps serving' }),
    ],
    boot: { version, container },
  }
}
