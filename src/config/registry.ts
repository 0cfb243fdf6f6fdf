import { isHash } from './load'
import type { KamalConfig } from './model'

/** A registry credential: written in the config, or the name of a secret (`[NAME]`). */
export type Credential = { literal: string } | { secret: string } | undefined

/** The `registry:` section (Kamal::Configuration::Registry): server, username, password. */
export interface RegistryConfig {
  server?: string
  username: Credential
  password: Credential
}

function credential(value: unknown): Credential {
  if (Array.isArray(value)) return { secret: String(value[0]) }
  if (value === undefined || value === null) return undefined
  return { literal: String(value) }
}

export function registryConfig(config: Pick<KamalConfig, 'raw'>): RegistryConfig {
  const registry = isHash(config.raw.registry) ? config.raw.registry : {}
  return { server: registry.server === undefined || registry.server === null ? undefined : String(registry.server), username: credential(registry.username), password: credential(registry.password) }
}
