import { InputError } from '../errors'
import type { KamalConfig, Role } from '../config/model'

/** The roles and hosts one run acts on, after the `roles`/`hosts` inputs (Kamal's --roles/--hosts). */
export interface Targets {
  /** roles in Kamal's order (primary first), each with only its selected hosts */
  roles: Role[]
  /** every selected host: roles' hosts then accessory hosts, primary-role hosts first */
  hosts: string[]
  appHosts: string[]
  /**
   * hosts that run kamal-proxy: those of proxied roles and of accessories
   * with a `proxy` block, within the selected hosts (Kamal's proxy_hosts)
   */
  proxyHosts: string[]
  primaryHost: string
}

/** File.fnmatch with only `*` as a wildcard, as Kamal allows. */
export function matchesPattern(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`)
  return regex.test(value)
}

export function selectTargets(config: KamalConfig, filters: { roles: string[]; hosts: string[] }): Targets {
  let roles = config.roles
  if (filters.roles.length > 0) {
    roles = roles.filter((role) => filters.roles.some((pattern) => matchesPattern(pattern, role.name)))
    if (roles.length === 0) {
      throw new InputError('roles', `No --roles match for ${filters.roles.join(',')}. Roles in the config: ${config.roles.map((role) => role.name).join(', ')}.`)
    }
  }
  if (filters.hosts.length > 0) {
    const known = config.allHosts
    const wanted = new Set(known.filter((host) => filters.hosts.some((pattern) => matchesPattern(pattern, host))))
    if (wanted.size === 0) throw new InputError('hosts', `No --hosts match for ${filters.hosts.join(',')}. Hosts in the config: ${known.join(', ')}.`)
    roles = roles.map((role) => ({ ...role, hosts: role.hosts.filter((host) => wanted.has(host)) })).filter((role) => role.hosts.length > 0)
    if (roles.length === 0) throw new InputError('hosts', `None of the hosts ${[...wanted].join(', ')} carries a selected role.`)
  }

  const appHosts = unique(roles.flatMap((role) => role.hosts))
  const accessoryHosts = filters.roles.length > 0 || filters.hosts.length > 0 ? [] : config.accessories.flatMap((accessory) => accessory.hosts)
  const primaryRole = roles.find((role) => role.primary) ?? roles[0]
  const primaryHosts = primaryRole.hosts
  const ordered = unique([...primaryHosts, ...appHosts, ...accessoryHosts])
  const primaryHost = filters.hosts.length > 0 ? ordered.find((host) => filters.hosts.some((pattern) => matchesPattern(pattern, host))) ?? ordered[0] : primaryHosts[0]

  return {
    roles,
    hosts: ordered,
    appHosts: unique([...primaryHosts, ...appHosts]),
    proxyHosts: config.proxyHosts.filter((host) => ordered.includes(host)),
    primaryHost,
  }
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)]
}
