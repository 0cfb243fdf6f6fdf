/** `kamal remove -y`: app, proxy, accessories and the registry login, under the lock (Kamal::Cli::Main#remove). Pure. */
import { accessoryRemoveStages } from '../accessory-plan'
import type { PlanParts } from '../deploy-plan'
import { stageOnEach, type Stage } from '../steps'
import { appRemovalStages } from './app'
import { exec, requireConfirmation, underLock } from './common'
import { registryLogout } from './kamal-commands'
import { proxyRemovalStages } from './proxy'

export function removeStages(parts: PlanParts): Stage[] {
  requireConfirmation(parts, 'remove', 'This will remove all containers and images. Are you sure?')
  const { config, targets, request } = parts
  const stages: Stage[] = [...appRemovalStages(parts), ...proxyRemovalStages(parts), ...accessoryRemoveStages(parts.accessoryContext(), request.accessories)]
  // A local registry lives on the runner (skip_local); a remote one: docker logout on every host.
  if (!config.localRegistry) stages.push(stageOnEach('command', 'Registry logout', targets.hosts, () => [exec(registryLogout(config), { label: 'docker logout' })]))
  return underLock(parts, stages)
}
