/** `kamal app exec|boot|start|stop|remove|logs|details|containers|version` as plan stages (Kamal::Cli::App). Pure. */
import { AppCommands } from '../../commands/app'
import { proxyDeploy } from '../../commands/proxy'
import { bootStages } from '../boot-plan'
import type { PlanParts } from '../deploy-plan'
import { placeholder, stageOn, stageOnEach, type Stage, type Step, type Unit } from '../steps'
import { connected, exec, hostHeading, readOnly, rolesOn, underLock } from './common'
import { appDirectory, AppOperations, listContainers, logOptions, removeAppDirectory, removeImages, removeProxyAppDirectory } from './kamal-commands'

/** One unit per selected role on each app host (Kamal's on_roles). */
function onRoles(parts: PlanParts, phase: Stage['phase'], title: string, steps: (operations: AppOperations) => Step[], extra: Partial<Stage> = {}): Stage {
  const { config, targets } = parts
  return {
    phase,
    title,
    ...extra,
    lanes: targets.appHosts.map((host) => ({ place: host, units: rolesOn(targets, host).map((role): Unit => ({ role: role.name, steps: steps(new AppOperations(config, role, host)) })) })),
  }
}

/**
 * `app exec [--reuse] [--detach] [--raw] CMD`: on every selected app host and
 * role, in a new container of the given (else the latest) version, or with
 * --reuse in the running one (the primary host's running version).
 */
export function appExecStages(parts: PlanParts): Stage[] {
  const { config, targets, request, auditor } = parts
  const options = request.options ?? {}
  const command = request.commandLine ?? ''
  const prefixLines = targets.appHosts.length > 1
  if (options.reuse) {
    const stages = connected(parts)
    let version = config.version
    if (!request.explicitVersion) {
      const primaryRole = rolesOn(targets, targets.primaryHost)[0]
      stages.push(
        stageOn('command', 'Get current version of running container', targets.primaryHost, [
          { kind: 'share', command: new AppCommands(config, primaryRole, targets.primaryHost).currentRunningVersion(), name: 'running_version', fallback: config.version, allowFailure: false, changes: false, note: `the version running on ${targets.primaryHost}; ${config.version} when none runs` },
        ], { announce: 'Get current version of running container...' }),
      )
      version = placeholder('running_version')
    }
    stages.push(
      onRoles(parts, 'command', 'Exec in the running container', (operations) => [
        exec(auditor.record(`Executed cmd '${command}' on app version ${version}`, { role: operations.role.name })),
        { kind: 'stream', command: operations.executeInExistingContainer(command, version), heading: hostHeading(operations.host), rawOutput: options.rawOutput, prefixLines, changes: true },
      ], { announce: `Launching command with version ${version} from existing container...` }),
    )
    return stages
  }
  return [
    ...connected(parts),
    ...(parts.login ? [stageOnEach('command', 'Registry login', targets.appHosts, () => parts.loginStep())] : []),
    onRoles(parts, 'command', 'Exec in a new container', (operations) => [
      exec(auditor.record(`Executed cmd '${command}' on app version ${config.version}`)),
      { kind: 'stream', command: operations.executeInNewContainer(command, { detach: options.detach, hex: placeholder('exec_hex') }), heading: hostHeading(operations.host), rawOutput: options.rawOutput, prefixLines, changes: true, note: options.detach ? 'detached: the container keeps running' : '--rm: no container is left behind' },
    ], { announce: `Launching command with version ${config.version} from new container...` }),
  ]
}

/** `app logs`: each host's log lines of each role's running container; "Nothing found" when there is none. */
export function appLogsStages(parts: PlanParts): Stage[] {
  const options = logOptions(parts.request.options ?? {})
  return [...connected(parts), onRoles(parts, 'command', 'App logs', (operations) => [{ kind: 'show', command: operations.logs(options), heading: hostHeading(operations.host), otherwise: 'Nothing found', changes: false }])]
}

export function appDetailsStages(parts: PlanParts): Stage[] {
  return [...connected(parts), onRoles(parts, 'command', 'App details', (operations) => [{ kind: 'show', command: operations.info(), heading: hostHeading(operations.host), changes: false }])]
}

export function appContainersStages(parts: PlanParts): Stage[] {
  const { config, targets } = parts
  return [...connected(parts), stageOnEach('command', 'App containers', targets.appHosts, (host) => [{ kind: 'show', command: listContainers(config), heading: hostHeading(host), changes: false }])]
}

/** `app version`: the running version of the first selected role on each host. */
export function appVersionStages(parts: PlanParts): Stage[] {
  const { config, targets } = parts
  return [
    ...connected(parts),
    stageOnEach('command', 'App version', targets.appHosts, (host) => [{ kind: 'show', command: new AppCommands(config, rolesOn(targets, host)[0], host).currentRunningVersion(), heading: hostHeading(host), changes: false }]),
  ]
}

/** Kamal's app stop for one role: take it off kamal-proxy when it has a running container there, then stop that container. */
function stopSteps(parts: PlanParts, operations: AppOperations): Step[] {
  const { app, role } = operations
  const steps: Step[] = [exec(parts.auditor.record('Stopped app', { role: role.name }))]
  if (role.proxy) {
    steps.push(readOnly(app.currentRunningVersion(), { capture: 'running_version', allowFailure: true, note: 'the running version' }))
    steps.push(readOnly(app.containerIdForVersion(placeholder('running_version')), { capture: 'container_id', allowFailure: true, note: 'its container, if any' }))
    steps.push(exec(operations.removeFromProxy(), { allowFailure: true, when: 'container_id', label: 'kamal-proxy remove', note: 'only when a container runs' }))
  }
  steps.push(exec(app.stop(), { allowFailure: true, label: 'docker stop' }))
  return steps
}

export function appStopStages(parts: PlanParts): Stage[] {
  return underLock(parts, [onRoles(parts, 'command', 'Stop app', (operations) => stopSteps(parts, operations))])
}

/** `app start`: the existing container of the version, then back on kamal-proxy. */
export function appStartStages(parts: PlanParts): Stage[] {
  const { config, auditor } = parts
  return underLock(parts, [
    onRoles(parts, 'command', 'Start app', (operations) => {
      const { app, role, host } = operations
      const steps: Step[] = [exec(auditor.record(`Started app version ${config.version}`)), exec(operations.start(), { allowFailure: true, label: 'docker start' })]
      if (role.proxy) {
        steps.push(readOnly(app.currentRunningVersion(), { capture: 'running_version', allowFailure: true, note: 'the running version' }))
        steps.push(readOnly(app.containerIdForVersion(placeholder('running_version')), { capture: 'container_id', emptyIsError: `Failed to get endpoint for ${role.name} on ${host}, did the container boot?`, note: 'its container' }))
        steps.push(exec(proxyDeploy(config, role, placeholder('container_id')), { label: 'kamal-proxy deploy' }))
      }
      return steps
    }),
  ])
}

/** `app boot`: the boot of deploy (assets, certificates, boot groups and their hooks, latest tag) for the given or latest version. */
export function appBootStages(parts: PlanParts): Stage[] {
  const { config, targets, auditor, request } = parts
  return underLock(parts, bootStages({ config, targets, auditor, hooks: request.hooks, errorPages: request.errorPages }))
}

/** Hosts where every role the config puts there is selected (Kamal's hosts_removing_all_roles). */
function hostsRemovingAllRoles(parts: PlanParts): string[] {
  const { config, targets } = parts
  const names = (roles: Array<{ name: string }>) => roles.map((role) => role.name).sort().join(',')
  return targets.appHosts.filter((host) => names(rolesOn(targets, host)) === names(config.roles.filter((role) => role.hosts.includes(host))))
}

/** `app remove`'s stages, without the lock (`remove` runs them under its own). */
export function appRemovalStages(parts: PlanParts): Stage[] {
  const { config, auditor } = parts
  const allRoles = hostsRemovingAllRoles(parts)
  return [
    onRoles(parts, 'command', 'Stop app', (operations) => stopSteps(parts, operations)),
    onRoles(parts, 'command', 'Remove app containers', (operations) => [exec(auditor.record('Removed all app containers', { role: operations.role.name })), exec(operations.removeContainers(), { label: 'docker container prune' })]),
    stageOnEach('command', 'Remove app images', allRoles, () => [exec(auditor.record('Removed all app images')), exec(removeImages(config), { label: 'docker image prune' })]),
    stageOnEach('command', 'Remove app directories', allRoles, () => [
      exec(removeAppDirectory(config), { allowFailure: true }),
      exec(auditor.record(`Removed ${appDirectory(config)}`)),
      exec(removeProxyAppDirectory(config), { allowFailure: true }),
    ]),
  ].filter((stage) => stage.lanes.length > 0)
}

export function appRemoveStages(parts: PlanParts): Stage[] {
  return underLock(parts, appRemovalStages(parts))
}
