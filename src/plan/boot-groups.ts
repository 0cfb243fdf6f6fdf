/**
 * `boot` settings (spec §1.5): which app hosts boot together, the pause after
 * each group, and how the roles of a group run (Kamal's `on_roles`). Pure.
 */
import type { BootSettings } from '../config/boot'
import type { Role } from '../config/model'

export { bootLimit, bootSettings, type BootSettings } from '../config/boot'

/** Ruby's `each_slice(limit)` over the app hosts, in the order given (primary-role hosts first); one group without a limit. */
export function bootGroups(appHosts: readonly string[], limit: number | undefined): string[][] {
  if (appHosts.length === 0) return []
  if (limit === undefined) return [[...appHosts]]
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`boot.limit must be a positive whole number or a percentage, got ${limit}`)
  const groups: string[][] = []
  for (let start = 0; start < appHosts.length; start += limit) groups.push(appHosts.slice(start, start + limit))
  return groups
}

/** One (host, role) boot; `lane` members run one after another, lanes run concurrently. */
export interface BootAssignment {
  host: string
  role: Role
}

export interface BootGroupPlan {
  /** the group's hosts */
  hosts: string[]
  /** KAMAL_HOSTS for pre-app-boot / post-app-boot */
  hostList: string
  /**
   * Kamal's `on_roles(roles, hosts: group, parallel: parallel_roles)`:
   * - parallel_roles false: one lane per host (hosts in parallel), the roles on
   *   that host in role order (primary first) one after another;
   * - parallel_roles true: one lane per (role, host): everything at once.
   */
  lanes: BootAssignment[][]
  /** seconds to sleep after this group (boot.wait), if any */
  waitAfter?: number
}

/**
 * The whole boot order: for each group, pre-app-boot → lanes → post-app-boot → sleep.
 * `roles` are the selected roles in Kamal's order with their selected hosts
 * (Targets.roles); `appHosts` the selected app hosts, primary-role hosts first (Targets.appHosts).
 */
export function bootPlan(settings: BootSettings, roles: readonly Role[], appHosts: readonly string[]): BootGroupPlan[] {
  return bootGroups(appHosts, settings.limit).map((hosts) => ({
    hosts,
    hostList: hosts.join(','),
    lanes: bootLanes(roles, hosts, settings.parallelRoles),
    waitAfter: settings.wait,
  }))
}

export function bootLanes(roles: readonly Role[], hosts: readonly string[], parallelRoles: boolean): BootAssignment[][] {
  if (parallelRoles) {
    return roles.flatMap((role) => role.hosts.filter((host) => hosts.includes(host)).map((host) => [{ host, role }]))
  }
  return hosts
    .map((host) => roles.filter((role) => role.hosts.includes(host)).map((role) => ({ host, role })))
    .filter((lane) => lane.length > 0)
}
