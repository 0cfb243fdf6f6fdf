/** `kamal proxy boot|reboot` and the proxy part of `kamal remove` (Kamal::Cli::Proxy). Pure. */
import { ensureProxyAppsDirectory, proxyRun } from '../../commands/proxy'
import type { PlanParts } from '../deploy-plan'
import { stageOnEach, type Stage } from '../steps'
import { exec, requireConfirmation, underLock } from './common'
import { appDirectoryCount, proxyContainerStop, proxyRemoveContainer, proxyRemoveDirectory, proxyRemoveImage } from './kamal-commands'

export function proxyBootStages(parts: PlanParts): Stage[] {
  return underLock(parts, parts.proxy())
}

/**
 * `proxy reboot [--rolling] -y`: per group of hosts (each host alone with
 * --rolling, else all at once) the pre-proxy-reboot hook, kamal-proxy stopped,
 * removed and run again (its routes are in the kamal-proxy-config volume, so
 * they come back), then the post-proxy-reboot hook.
 */
export function proxyRebootStages(parts: PlanParts): Stage[] {
  requireConfirmation(parts, 'proxy reboot', 'This will cause a brief outage on each host. Are you sure?')
  const { config, targets, request, auditor } = parts
  const groups = request.options?.rolling ? targets.proxyHosts.map((host) => [host]) : [targets.proxyHosts]
  const stages = groups.flatMap((hosts, index): Stage[] => {
    const ofGroups = groups.length > 1 ? ` (${index + 1} of ${groups.length}: ${hosts.join(', ')})` : ''
    return [
      ...parts.hook('pre-proxy-reboot', hosts),
      stageOnEach('proxy', `Reboot kamal-proxy${ofGroups}`, hosts, (host) => [
        exec(auditor.record('Rebooted proxy')),
        ...parts.loginStep(),
        exec(proxyContainerStop(), { allowFailure: true, note: 'if running' }),
        exec(proxyRemoveContainer(), { label: 'remove kamal-proxy container' }),
        exec(ensureProxyAppsDirectory()),
        exec(proxyRun(config, host), { label: 'docker run kamal-proxy' }),
      ], { announce: `Rebooting kamal-proxy on ${hosts.join(', ')}...`, waitsFor: index > 0 ? 'the previous host (rolling)' : undefined }),
      ...parts.hook('post-proxy-reboot', hosts),
    ]
  })
  return underLock(parts, stages)
}

/**
 * `proxy remove`'s stages (without the lock): only when no other app is
 * installed on any proxy host (Kamal's removal_allowed?, no --force here).
 */
export function proxyRemovalStages(parts: PlanParts): Stage[] {
  const { targets, auditor } = parts
  const hosts = targets.proxyHosts
  const skip = { unless: 'other_apps' }
  return [
    stageOnEach('proxy', 'Other apps on the proxy hosts', hosts, () => [
      { kind: 'share', command: appDirectoryCount(), name: 'other_apps', keepIf: '^[1-9]', allowFailure: true, changes: false, message: 'Not removing the proxy, as other apps are installed, ignore this check with kamal proxy remove --force', note: 'the proxy stays while other apps use it' },
    ]),
    stageOnEach('proxy', 'Stop proxy', hosts, () => [exec(auditor.record('Stopped proxy'), skip), exec(proxyContainerStop(), { allowFailure: true, ...skip })]),
    stageOnEach('proxy', 'Remove proxy container', hosts, () => [exec(auditor.record('Removed proxy container'), skip), exec(proxyRemoveContainer(), skip)]),
    stageOnEach('proxy', 'Remove proxy image', hosts, () => [exec(auditor.record('Removed proxy image'), skip), exec(proxyRemoveImage(), skip)]),
    stageOnEach('proxy', 'Remove proxy directory', hosts, () => [exec(proxyRemoveDirectory(), { allowFailure: true, ...skip })]),
  ].filter((stage) => stage.lanes.length > 0)
}
