/**
 * The plan's dozen stages merged into the handful a reader follows: the
 * phase table's columns and the timeline's bars.
 */
import type { Phase } from '../plan/steps'

export interface StageGroup {
  name: string
  /** what the group holds, for the table's caption */
  holds: string
  phases: readonly Phase[]
}

export const STAGE_GROUPS: readonly StageGroup[] = [
  { name: 'Build', holds: 'build and push on the runner', phases: ['build'] },
  { name: 'Pull', holds: 'registry login and image pull', phases: ['pull'] },
  { name: 'Prepare', holds: 'connect, hooks, lock, network, kamal-proxy, accessories, stale containers', phases: ['connect', 'setup', 'lock', 'proxy', 'accessories', 'stale'] },
  { name: 'Boot', holds: 'each role: new container, health check, switch, old container stopped', phases: ['boot'] },
  { name: 'Command', holds: 'the command itself', phases: ['command'] },
  { name: 'Finish', holds: 'latest tag, prune, lock release', phases: ['tag', 'prune', 'unlock'] },
]

export function groupOfPhase(phase: Phase | undefined): StageGroup {
  return STAGE_GROUPS.find((group) => phase !== undefined && group.phases.includes(phase)) ?? STAGE_GROUPS[2]
}
