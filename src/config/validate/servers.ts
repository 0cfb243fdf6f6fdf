/**
 * `servers`: a host list (one `web` role) or a mapping of role name to a host
 * list or a role mapping. Roles are checked in sorted name order, each with
 * its env, logging and proxy, as Kamal builds them.
 */
import { LOGGING_EXAMPLE, ROLE_EXAMPLE } from '../examples'
import { checkReservedLabels, checkRestartPolicy } from './container-options'
import { checkEnv } from './env'
import { checkAgainstExample } from './example-walker'
import type { IssueCollector, PathSegment } from './issues'
import { checkProxy } from './proxy'
import { isHash, isTruthy } from './ruby-values'
import { checkHosts, checkType } from './type-checks'

/** The role names Kamal derives from `servers`, in its (sorted) order. */
export function roleNames(servers: unknown): string[] {
  if (Array.isArray(servers)) return ['web']
  if (isHash(servers)) return Object.keys(servers).sort()
  return []
}

export function primaryRoleName(raw: Record<string, unknown>): unknown {
  return isTruthy(raw.primary_role) ? raw.primary_role : 'web'
}

export function checkServers(c: IssueCollector, raw: Record<string, unknown>): void {
  const servers = raw.servers
  if (Array.isArray(servers)) checkHosts(c, servers, ['servers'])
  if (!Array.isArray(servers) && !isHash(servers)) return

  const primary = primaryRoleName(raw)
  for (const name of roleNames(servers)) {
    const roleConfig = isHash(servers) ? servers[name] : {}
    checkRole(c, name, roleConfig, name === primary)
  }
}

function checkRole(c: IssueCollector, name: string, roleConfig: unknown, isPrimary: boolean): void {
  const path = ['servers', name]
  const shapeHint = `Give role \`${name}\` a list of hosts, or a mapping with \`hosts:\` and its settings.`
  if (!checkType(c, roleConfig, ['array', 'hash'], path, { hint: shapeHint })) return
  if (Array.isArray(roleConfig)) {
    checkHosts(c, roleConfig, path)
    checkRoleProxy(c, undefined, path, isPrimary)
    return
  }

  const role = roleConfig as Record<string, unknown>
  checkAgainstExample(c, role, ROLE_EXAMPLE, path)
  checkReservedLabels(c, role.labels, path)
  checkRestartPolicy(c, role.options, path)

  checkEnv(c, 'env' in role ? role.env : {}, [...path, 'env'], false)
  const logging = 'logging' in role ? role.logging : {}
  if (isHash(logging)) checkAgainstExample(c, logging, LOGGING_EXAMPLE, [...path, 'logging'])
  checkRoleProxy(c, role.proxy, path, isPrimary)
}

/** The primary role runs the proxy unless `proxy: false`; other roles only when asked to. */
function checkRoleProxy(c: IssueCollector, proxy: unknown, rolePath: PathSegment[], isPrimary: boolean): void {
  const running = isPrimary ? proxy !== false : isTruthy(proxy)
  if (!running) return
  const proxyConfig = proxy === true || proxy === null || proxy === undefined ? {} : proxy
  if (isHash(proxyConfig)) checkProxy(c, proxyConfig, [...rolePath, 'proxy'])
}
