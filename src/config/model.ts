import type { SourceLocation } from '../errors'
import { BuilderConfig } from './builder'
import { envFromRaw, mergeEnv, splitSecretAlias, type EnvSpec } from './env'
import { deepMerge, isHash, type RawConfig } from './load'
import { proxyConfig, type ProxyConfig } from './proxy'
import { readSshConfig, type SshConfig } from './ssh'
import type { PathSegment } from './yaml-source'

/** The Kamal version whose behaviour we reproduce (for `minimum_version`). */
export const EMULATED_KAMAL_VERSION = '2.12.0'
export { DEFAULT_PROXY_IMAGE_VERSION } from './proxy'

/** A role's proxy: root `proxy` deep-merged with the role's own (role wins), typed in ./proxy. */
export type ProxySettings = ProxyConfig

export interface Role {
  name: string
  primary: boolean
  hosts: string[]
  tagsByHost: Map<string, string[]>
  cmd?: string
  options: Record<string, unknown>
  labels: Record<string, unknown>
  logging: Record<string, unknown>
  proxy: ProxySettings | null
  assetPath?: string
  stopTimeout?: number
  /** `<service>-<role>[-<destination>]`: container prefix and kamal-proxy service name */
  containerPrefix: string
  path: PathSegment[]
}

export interface Accessory {
  name: string
  service: string
  hosts: string[]
  raw: Record<string, unknown>
}

/** A secret name the config refers to, and where. */
export interface SecretReference {
  key: string
  path: PathSegment[]
}

export interface ConfigContext {
  destination?: string
  version: string
  projectDir: string
}

/**
 * A validated Kamal configuration with everything the command builders need,
 * derived the way Kamal::Configuration derives it.
 */
export class KamalConfig {
  readonly raw: Record<string, unknown>
  readonly destination?: string
  readonly version: string
  readonly service: string
  readonly image: string
  readonly registryServer?: string
  readonly roles: Role[]
  readonly accessories: Accessory[]
  readonly env: EnvSpec
  readonly envTags: Map<string, EnvSpec>
  private sshSettings?: SshConfig

  constructor(
    readonly source: RawConfig,
    context: ConfigContext,
  ) {
    const raw = source.raw
    this.raw = raw
    this.destination = context.destination || undefined
    this.version = context.version
    this.service = String(raw.service)
    const registry = isHash(raw.registry) ? raw.registry : {}
    this.registryServer = registry.server !== undefined && registry.server !== null ? String(registry.server) : undefined
    this.image = present(raw.image) ? String(raw.image) : this.service
    this.env = envFromRaw(raw.env)
    const tags = isHash(raw.env) && isHash(raw.env.tags) ? raw.env.tags : {}
    this.envTags = new Map(Object.entries(tags).map(([name, value]) => [name, envFromRaw(value)]))
    this.roles = this.buildRoles()
    this.accessories = this.buildAccessories()
  }

  /** The `builder:` section, typed (Kamal::Configuration::Builder). */
  get builder(): BuilderConfig {
    return (this.builderConfig ??= new BuilderConfig(this.raw.builder, this))
  }

  private builderConfig?: BuilderConfig

  get localRegistry(): boolean {
    return /^localhost[:$]/.test(this.registryServer ?? '')
  }

  get repository(): string {
    return [this.registryServer, this.image].filter((part) => part !== undefined).join('/')
  }

  get latestTag(): string {
    return ['latest', this.destination].filter(Boolean).join('-')
  }

  get absoluteImage(): string {
    return `${this.repository}:${this.version}`
  }

  get latestImage(): string {
    return `${this.repository}:${this.latestTag}`
  }

  get serviceAndDestination(): string {
    return [this.service, this.destination].filter(Boolean).join('-')
  }

  get primaryRoleName(): string {
    return present(this.raw.primary_role) ? String(this.raw.primary_role) : 'web'
  }

  get primaryRole(): Role | undefined {
    return this.roles.find((role) => role.name === this.primaryRoleName)
  }

  get appHosts(): string[] {
    return unique(this.roles.flatMap((role) => role.hosts))
  }

  get allHosts(): string[] {
    return unique([...this.roles, ...this.accessories].flatMap((item) => item.hosts))
  }

  get proxyHosts(): string[] {
    const proxiedAccessories = this.accessories.filter((accessory) => present(accessory.raw.proxy) && isHash(accessory.raw.proxy))
    return unique([...this.roles.filter((role) => role.proxy), ...proxiedAccessories].flatMap((item) => item.hosts))
  }

  get primaryHost(): string | undefined {
    return this.primaryRole?.hosts[0]
  }

  get retainContainers(): number {
    return numberOr(this.raw.retain_containers, 5)
  }

  get readinessDelay(): number {
    return numberOr(this.raw.readiness_delay, 7)
  }

  get deployTimeout(): number {
    return numberOr(this.raw.deploy_timeout, 30)
  }

  get drainTimeout(): number {
    return numberOr(this.raw.drain_timeout, 30)
  }

  get stopTimeout(): number | undefined {
    return typeof this.raw.stop_timeout === 'number' ? this.raw.stop_timeout : undefined
  }

  get volumes(): string[] {
    return Array.isArray(this.raw.volumes) ? this.raw.volumes.map(String) : []
  }

  get labels(): Record<string, unknown> {
    return isHash(this.raw.labels) ? this.raw.labels : {}
  }

  get logging(): Record<string, unknown> {
    return isHash(this.raw.logging) ? this.raw.logging : {}
  }

  get hooksPath(): string {
    return present(this.raw.hooks_path) ? String(this.raw.hooks_path) : '.kamal/hooks'
  }

  get secretsPath(): string {
    return present(this.raw.secrets_path) ? String(this.raw.secrets_path) : '.kamal/secrets'
  }

  get errorPagesPath(): string | undefined {
    return present(this.raw.error_pages_path) ? String(this.raw.error_pages_path) : undefined
  }

  /** Kamal's `ssh:` and `sshkit:` sections, typed (read once; bad values refused at their file:line). */
  get ssh(): SshConfig {
    this.sshSettings ??= readSshConfig(this.raw, (at, options) => this.locate(at, options))
    return this.sshSettings
  }

  /** Kamal's role env for a host: root env, then the role's, then each of the host's tags in order. */
  envFor(role: Role, host: string): EnvSpec {
    const roleRaw = this.roleRaw(role.name)
    let env = mergeEnv(this.env, envFromRaw(roleRaw.env))
    for (const tag of role.tagsByHost.get(host) ?? []) {
      const tagEnv = this.envTags.get(tag)
      if (tagEnv) env = mergeEnv(env, tagEnv)
    }
    return env
  }

  /** Every secret name the config needs, with the place it is named (for missing-secret annotations). */
  secretReferences(): SecretReference[] {
    const references: SecretReference[] = []
    const envSecrets = (env: unknown, at: PathSegment[]) => {
      if (!isHash(env) || !Array.isArray(env.secret)) return
      env.secret.forEach((entry, index) => references.push({ key: splitSecretAlias(String(entry)).key, path: [...at, 'secret', index] }))
    }
    envSecrets(this.raw.env, ['env'])
    const tags = isHash(this.raw.env) && isHash(this.raw.env.tags) ? this.raw.env.tags : {}
    for (const tag of Object.keys(tags)) envSecrets(tags[tag], ['env', 'tags', tag])
    for (const role of this.roles) envSecrets(this.roleRaw(role.name).env, [...role.path, 'env'])
    const registry = isHash(this.raw.registry) ? this.raw.registry : {}
    for (const field of ['username', 'password']) {
      const value = registry[field]
      if (Array.isArray(value) && value.length === 1) references.push({ key: String(value[0]), path: ['registry', field, 0] })
    }
    const builder = isHash(this.raw.builder) ? this.raw.builder : {}
    if (Array.isArray(builder.secrets)) builder.secrets.forEach((name, index) => references.push({ key: String(name), path: ['builder', 'secrets', index] }))
    for (const entry of this.ssh.keyData) if ('secret' in entry) references.push({ key: entry.secret, path: entry.at })
    for (const role of this.roles) {
      const ssl = role.proxy?.raw.ssl
      if (isHash(ssl)) {
        for (const field of ['certificate_pem', 'private_key_pem']) {
          if (present(ssl[field])) references.push({ key: String(ssl[field]), path: [...(role.proxy?.path ?? ['proxy']), 'ssl', field] })
        }
      }
    }
    for (const accessory of this.accessories) envSecrets(accessory.raw.env, ['accessories', accessory.name, 'env'])
    return references
  }

  locate(at: readonly PathSegment[], options?: { key?: boolean }): SourceLocation {
    return this.source.locate(at, options)
  }

  roleRaw(name: string): Record<string, unknown> {
    const servers = this.raw.servers
    if (isHash(servers) && isHash(servers[name])) return servers[name] as Record<string, unknown>
    return {}
  }

  private buildRoles(): Role[] {
    const servers = this.raw.servers
    const names = Array.isArray(servers) ? ['web'] : isHash(servers) ? Object.keys(servers).sort() : []
    const rootProxy = isHash(this.raw.proxy) ? this.raw.proxy : {}
    const roles = names.map((name): Role => {
      const rolePath: PathSegment[] = Array.isArray(servers) ? ['servers'] : ['servers', name]
      const roleValue = Array.isArray(servers) ? servers : isHash(servers) ? servers[name] : undefined
      const spec = isHash(roleValue) ? roleValue : {}
      const hostEntries = Array.isArray(roleValue) ? roleValue : Array.isArray(spec.hosts) ? spec.hosts : []
      const tagsByHost = new Map<string, string[]>()
      for (const entry of hostEntries) {
        if (typeof entry === 'string') tagsByHost.set(entry, [])
        else if (isHash(entry)) {
          const [host, tags] = Object.entries(entry)[0] ?? []
          if (host !== undefined) tagsByHost.set(host, Array.isArray(tags) ? tags.map(String) : [String(tags)])
        }
      }
      const primary = name === this.primaryRoleName
      const roleProxy = spec.proxy
      const runsProxy = primary ? roleProxy !== false : Boolean(roleProxy)
      const asset = present(spec.asset_path) ? String(spec.asset_path) : present(this.raw.asset_path) ? String(this.raw.asset_path) : undefined
      return {
        name,
        primary,
        hosts: [...tagsByHost.keys()],
        tagsByHost,
        cmd: present(spec.cmd) ? String(spec.cmd) : undefined,
        options: isHash(spec.options) ? spec.options : {},
        labels: { ...this.labels, ...(isHash(spec.labels) ? spec.labels : {}) },
        logging: deepMerge(this.logging, isHash(spec.logging) ? spec.logging : {}),
        proxy: runsProxy
          ? proxyConfig(deepMerge(rootProxy, isHash(roleProxy) ? roleProxy : {}), isHash(roleProxy) ? [...rolePath, 'proxy'] : ['proxy'])
          : null,
        assetPath: asset,
        stopTimeout: typeof spec.stop_timeout === 'number' ? spec.stop_timeout : undefined,
        containerPrefix: [this.service, name, this.destination].filter(Boolean).join('-'),
        path: rolePath,
      }
    })
    // Kamal orders roles primary first (stable).
    return [...roles.filter((role) => role.primary), ...roles.filter((role) => !role.primary)]
  }

  private buildAccessories(): Accessory[] {
    const accessories = isHash(this.raw.accessories) ? this.raw.accessories : {}
    return Object.entries(accessories).map(([name, value]) => {
      const spec = isHash(value) ? value : {}
      const list = (item: unknown) => (Array.isArray(item) ? item.map(String) : present(item) ? [String(item)] : [])
      const hostsWithTag = (tag: string) => this.roles.flatMap((role) => role.hosts.filter((host) => role.tagsByHost.get(host)?.includes(tag)))
      const roleHosts = (names: string[]) => names.flatMap((roleName) => this.roles.find((role) => role.name === roleName)?.hosts ?? [])
      const hosts = [
        ...list(spec.host),
        ...list(spec.hosts),
        ...roleHosts([...list(spec.role), ...list(spec.roles)]),
        ...[...list(spec.tag), ...list(spec.tags)].flatMap(hostsWithTag),
      ]
      return { name, service: present(spec.service) ? String(spec.service) : `${this.service}-${name}`, hosts: unique(hosts), raw: spec }
    })
  }
}

export function proxyHostNames(proxy: ProxySettings): string[] {
  return proxy.hosts
}

/** Ruby's `present?`: not nil, not false, not an empty or blank string/collection. */
export function present(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false
  if (typeof value === 'string') return value.trim() !== ''
  if (Array.isArray(value)) return value.length > 0
  if (isHash(value)) return Object.keys(value).length > 0
  return true
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : value !== undefined && value !== null && value !== '' ? Number(value) : fallback
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)]
}

/** Gem::Version-style comparison of dotted versions (numeric segments). */
export function compareVersions(a: string, b: string): number {
  const parts = (version: string) => version.replace(/^v/, '').split('.').map((part) => parseInt(part, 10) || 0)
  const left = parts(a)
  const right = parts(b)
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0)
    if (difference !== 0) return difference
  }
  return 0
}
