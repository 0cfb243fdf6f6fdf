/**
 * `accessories.<name>`: the accessory itself, where it runs, then its env,
 * proxy and registry, in the order Kamal builds them.
 */
import { ACCESSORY_EXAMPLE } from '../examples'
import { checkReservedLabels, checkRestartPolicy } from './container-options'
import { checkEnv } from './env'
import { checkAgainstExample } from './example-walker'
import type { IssueCollector, PathSegment } from './issues'
import { checkProxy } from './proxy'
import { checkRegistry } from './registry'
import { isHash, isPresent, isTruthy, rubyToS } from './ruby-values'
import { roleNames } from './servers'

const PLACEMENT_KEYS = ['host', 'hosts', 'role', 'roles', 'tag', 'tags']

export function checkAccessories(c: IssueCollector, raw: Record<string, unknown>): void {
  const accessories = raw.accessories
  if (!isHash(accessories)) return
  const roles = roleNames(raw.servers)
  for (const [name, accessory] of Object.entries(accessories)) {
    checkAccessory(c, name, accessory, roles)
  }
}

function checkAccessory(c: IssueCollector, name: string, accessory: unknown, roles: string[]): void {
  const path = ['accessories', name]
  if (!checkAgainstExample(c, accessory, ACCESSORY_EXAMPLE, path)) return
  const config = accessory as Record<string, unknown>

  const placement = Object.keys(config).filter((key) => PLACEMENT_KEYS.includes(key))
  if (placement.length !== 1) {
    const found = placement.length === 0 ? 'none is set' : `found ${placement.join(', ')}`
    c.add(
      path,
      'specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`',
      `Say where the accessory runs with exactly one of host, hosts, role, roles, tag or tags (${found}).`,
      { focus: placement.length > 1 ? [...path, placement[1]] : path, focusKey: true },
    )
  }
  checkReservedLabels(c, config.labels, path)
  checkRestartPolicy(c, config.options, path)
  checkPlacementRoles(c, config, path, roles)

  checkEnv(c, 'env' in config ? config.env : {}, [...path, 'env'], false)
  if (isPresent(config.proxy)) {
    if (isHash(config.proxy)) {
      checkProxy(c, config.proxy, [...path, 'proxy'])
    } else {
      c.add([...path, 'proxy'], 'should be a hash', 'Give the accessory a proxy mapping (e.g. `host:` and `app_port:`); `true` alone is not enough.')
    }
  }
  if (isPresent(config.registry)) checkRegistry(c, config.registry, [...path, 'registry'])
}

/** Roles named by `role`/`roles` must exist under `servers`. */
function checkPlacementRoles(c: IssueCollector, config: Record<string, unknown>, path: PathSegment[], roles: string[]): void {
  const known = `Use a role defined under servers (${roles.length > 0 ? roles.join(', ') : 'none defined'}).`
  const missing = Array.isArray(config.roles) ? config.roles.filter((role) => !roles.includes(role as string)) : []
  if (isTruthy(config.roles) && missing.length > 0) {
    c.add(path, `unknown roles ${missing.map(rubyToS).join(', ')}`, known, { focus: [...path, 'roles'] })
  } else if (isTruthy(config.role) && !roles.includes(rubyToS(config.role))) {
    c.add(path, `unknown role ${rubyToS(config.role)}`, known, { focus: [...path, 'role'] })
  }
}
