/** The `boot:` section (Kamal::Configuration::Boot), read once. */
import { isHash } from './load'
import type { KamalConfig } from './model'

export interface BootSettings {
  /** hosts per group; undefined = all app hosts in one group */
  limit?: number
  /** seconds to sleep after each group, the last one included */
  wait?: number
  /** boot the roles of a host concurrently (default: one after another, primary first) */
  parallelRoles: boolean
}

/**
 * `boot.limit`: a number is used as is; `"N%"` is `max(floor(allHostsCount * N / 100), 1)`
 * where the count is every host in the config, accessory-only hosts included.
 */
export function bootLimit(limit: unknown, allHostsCount: number): number | undefined {
  if (limit === undefined || limit === null) return undefined
  if (String(limit).endsWith('%')) return Math.max(Math.floor((allHostsCount * rubyToI(String(limit))) / 100), 1)
  return Number(limit)
}

export function bootSettings(config: Pick<KamalConfig, 'raw' | 'allHosts'>): BootSettings {
  const boot = isHash(config.raw.boot) ? config.raw.boot : {}
  return {
    limit: bootLimit(boot.limit, config.allHosts.length),
    wait: boot.wait === undefined || boot.wait === null ? undefined : Number(boot.wait),
    parallelRoles: boot.parallel_roles === true,
  }
}

/** Ruby's String#to_i: leading whitespace, optional sign, digits; 0 when none. */
function rubyToI(text: string): number {
  const match = /^\s*([+-]?\d[\d_]*)/.exec(text)
  return match ? parseInt(match[1].replace(/_/g, ''), 10) : 0
}
