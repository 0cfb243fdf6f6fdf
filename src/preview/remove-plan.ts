/**
 * `preview remove`'s plan (the `remove preview` builder of src/plan/commands/dispatch.ts),
 * for the preview's derived config: Kamal's `app remove` (stop and take each running
 * container off kamal-proxy, remove containers, images and app directories), then the
 * route again whether or not a container ran (a crashed preview leaves its route
 * otherwise), then the preview's audit log, all under the preview's own lock. Pure.
 */
import { line } from '../commands/base'
import { PROXY_CONTAINER } from '../commands/proxy'
import type { PlanParts } from '../plan/deploy-plan'
import { appRemovalStages } from '../plan/commands/app'
import { exec, underLock } from '../plan/commands/common'
import { stageOnEach, type Stage } from '../plan/steps'

/** kamal-proxy's answer for a route that is already gone, or no kamal-proxy on the host: nothing left to remove either way. */
const ROUTE_GONE = 'service not found|No such container|is not running'

export function previewRemoveStages(parts: PlanParts): Stage[] {
  const { targets, auditor } = parts
  const proxied = targets.roles.filter((role) => role.proxy)
  return underLock(parts, [
    ...appRemovalStages(parts),
    stageOnEach('command', 'Remove the preview route', targets.appHosts, (host) =>
      proxied
        .filter((role) => role.hosts.includes(host))
        .map((role) => exec(line('docker exec', PROXY_CONTAINER, 'kamal-proxy remove', role.containerPrefix), { tolerate: ROUTE_GONE, label: 'kamal-proxy remove', note: "also when no container of it ran; 'service not found' is fine" })),
    ),
    stageOnEach('command', 'Remove the preview audit log', targets.appHosts, () => [exec(line('rm -f', auditor.logFile), { note: 'nothing of the preview stays on the host' })]),
  ])
}
