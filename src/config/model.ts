import * as fs from 'node:fs'
import * as path from 'node:path'
import { ConfigError, type SourceLocation } from '../errors'
import { envFromRaw, mergeEnv, splitSecretAlias, type EnvSpec } from './env'
import { deepMerge, isHash, type RawConfig } from './load'
import type { PathSegment } from './yaml-source'

/** The Kamal version whose behaviour we reproduce (for `minimum_version`). */
export const EMULATED_KAMAL_VERSION = '2.12.0'
export const DEFAULT_PROXY_IMAGE_VERSION = 'v0.9.2'

export interface ProxySettings {
  /** the effective proxy hash: root `proxy` deep-merged with the role's own (role wins) */
  raw: Record<string, unknown>
  /** where the role's own proxy settings live, for error locations */
  path: PathSegment[]
}

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
    const proxiedAccessories = this.accessories.filter((accessory) => isHash(accessory.raw.proxy))
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

  get ssh(): SshSettings {
    const ssh = isHash(this.raw.ssh) ? this.raw.ssh : {}
    return {
      user: present(ssh.user) ? String(ssh.user) : 'root',
      port: present(ssh.port) ? Number(ssh.port) : 22,
      proxy: present(ssh.proxy) ? String(ssh.proxy) : undefined,
      keyData: Array.isArray(ssh.key_data) ? ssh.key_data.map(String) : [],
    }
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
    this.ssh.keyData.forEach((name, index) => references.push({ key: name, path: ['ssh', 'key_data', index] }))
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
          ? { raw: deepMerge(rootProxy, isHash(roleProxy) ? roleProxy : {}), path: isHash(roleProxy) ? [...rolePath, 'proxy'] : ['proxy'] }
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

export interface SshSettings {
  user: string
  port: number
  proxy?: string
  keyData: string[]
}

/**
 * An accessory placed by tag must find a host with that tag. Kamal would
 * silently place it nowhere; we stop with an error instead. (Unknown roles are
 * reported by the validator, as Kamal does.)
 */
export function ensureAccessoryPlacement(config: KamalConfig): void {
  const hostTags = new Set(config.roles.flatMap((role) => [...role.tagsByHost.values()].flat()))
  for (const accessory of config.accessories) {
    const spec = accessory.raw
    const byList = Array.isArray(spec.tags)
    const tags = byList ? (spec.tags as unknown[]).map(String) : spec.tag !== undefined && spec.tag !== null ? [String(spec.tag)] : []
    const unknownTag = tags.find((tag) => !hostTags.has(tag))
    if (unknownTag === undefined) continue
    const at = byList ? ['accessories', accessory.name, 'tags', tags.indexOf(unknownTag)] : ['accessories', accessory.name, 'tag']
    throw new ConfigError(
      `accessories/${accessory.name}: no host carries the tag ${unknownTag}, so the accessory would run nowhere. Tag a host under servers (- host: ${unknownTag}) or fix the tag name.`,
      config.locate(at),
    )
  }
}

/** Kamal's first check after validation: `require_destination` needs a destination. */
export function ensureDestinationIfRequired(config: KamalConfig): void {
  if (config.raw.require_destination === true && !config.destination) {
    throw new ConfigError(
      `You must specify a destination: ${config.source.files[0]} sets require_destination, so set the action's 'destination' input (e.g. staging, production).`,
      config.locate(['require_destination'], { key: true }),
    )
  }
}

/** Kamal's cross-field checks (Kamal::Configuration#ensure_*), each located at the setting to change. */
export function checkCrossFieldRules(config: KamalConfig, projectDir: string): void {
  const raw = config.raw
  const fail = (message: string, at: PathSegment[], key = false): never => {
    throw new ConfigError(message, config.locate(at, { key }))
  }

  if (raw.servers !== undefined && raw.servers !== null) {
    const primary = config.primaryRole
    if (!primary) {
      fail(
        `The primary_role ${config.primaryRoleName} isn't defined. Add a '${config.primaryRoleName}' role under servers, or set primary_role to one of: ${config.roles.map((role) => role.name).join(', ')}.`,
        present(raw.primary_role) ? ['primary_role'] : ['servers'],
        !present(raw.primary_role),
      )
    } else if (primary.hosts.length === 0) {
      fail(`No servers specified for the ${primary.name} primary_role. List at least one host under it.`, primary.path, true)
    }
    if (raw.allow_empty_roles !== true) {
      for (const role of config.roles) {
        if (role.hosts.length === 0) {
          fail(`No servers specified for the ${role.name} role. You can ignore this with allow_empty_roles: true`, role.path, true)
        }
      }
    }
  }
  if (present(raw.minimum_version) && compareVersions(String(raw.minimum_version), EMULATED_KAMAL_VERSION) > 0) {
    fail(`Current version is ${EMULATED_KAMAL_VERSION}, minimum required is ${raw.minimum_version}. This action behaves as Kamal ${EMULATED_KAMAL_VERSION}; lower minimum_version or use a newer release of the action.`, ['minimum_version'])
  }
  if (config.retainContainers < 1) fail('Must retain at least 1 container: set retain_containers to 1 or more.', ['retain_containers'])
  if (!/^[a-z0-9_-]+$/i.test(config.service)) {
    fail('Service name can only include alphanumeric characters, hyphens, and underscores. Rename the service, e.g. my-app.', ['service'])
  }
  for (const hook of ['pre-traefik-reboot', 'post-traefik-reboot']) {
    const file = path.join(config.hooksPath, hook)
    if (fs.existsSync(path.resolve(projectDir, file))) {
      throw new ConfigError(`Found ${hook}, these should be renamed to (pre|post)-proxy-reboot`, { file, line: 1, column: 1 })
    }
  }
  for (const role of config.roles) {
    const ssl = role.proxy?.raw.ssl
    const customCertificate = isHash(ssl) && present(ssl.certificate_pem) && present(ssl.private_key_pem)
    if (role.proxy && ssl && role.hosts.length > 1 && !customCertificate) {
      fail(
        `SSL is only supported on a single server unless you provide custom certificates, found ${role.hosts.length} servers for role ${role.name}. Terminate TLS at a load balancer (ssl: false) or give certificate_pem/private_key_pem.`,
        [...role.proxy.path, 'ssl'],
      )
    }
  }
  const sslHosts = new Map<string, Role>()
  for (const role of config.roles.filter((item) => item.proxy && item.proxy.raw.ssl)) {
    for (const host of proxyHostNames(role.proxy as ProxySettings)) {
      if (sslHosts.has(host)) fail(`Different roles can't share the same host for SSL: ${host}. Give each SSL role its own proxy host.`, [...(role.proxy as ProxySettings).path])
      sslHosts.set(host, role)
    }
  }
  const builder = isHash(raw.builder) ? raw.builder : {}
  if (config.localRegistry && present(builder.remote) && !String(builder.remote).startsWith('ssh://')) {
    fail('Local registry with remote builder requires an SSH URL (e.g., ssh://user@host)', ['builder', 'remote'])
  }
  for (const host of config.allHosts) {
    const runs = config.roles.filter((role) => role.hosts.includes(host) && role.proxy && isHash(role.proxy.raw.run))
    const distinct = new Set(runs.map((role) => JSON.stringify((role.proxy as ProxySettings).raw.run)))
    if (distinct.size > 1) {
      fail(`Conflicting proxy run configurations for host ${host}. Make proxy.run identical for every role on that host.`, [...(runs[1].proxy as ProxySettings).path, 'run'])
    }
  }
  const hooksOutput = raw.hooks_output
  const levels = ['quiet', 'verbose']
  if (typeof hooksOutput === 'string' && !levels.includes(hooksOutput)) {
    fail(`Invalid hooks_output '${hooksOutput}', must be one of: quiet, verbose. Set hooks_output to quiet or verbose (or remove it).`, ['hooks_output'])
  } else if (isHash(hooksOutput)) {
    for (const [hook, level] of Object.entries(hooksOutput)) {
      if (!levels.includes(String(level))) fail(`Invalid hooks_output '${level}' for hook '${hook}', must be one of: quiet, verbose. Set it to quiet or verbose.`, ['hooks_output', hook])
    }
  }
}

export function proxyHostNames(proxy: ProxySettings): string[] {
  const raw = proxy.raw
  if (Array.isArray(raw.hosts)) return raw.hosts.map(String)
  if (present(raw.host)) return String(raw.host).split(',')
  return []
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
