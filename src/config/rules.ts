import * as fs from 'node:fs'
import * as path from 'node:path'
import { ConfigError } from '../errors'
import { isHash } from './load'
import { compareVersions, EMULATED_KAMAL_VERSION, present, proxyHostNames, type KamalConfig, type ProxySettings, type Role } from './model'
import type { PathSegment } from './yaml-source'

/*
 * Kamal's checks that span several settings (Kamal::Configuration#ensure_*),
 * run after the structural validation; each error is located at the setting
 * to change.
 */

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
  ensureNoConflictingProxyRuns(config)
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

/** One kamal-proxy `run` configuration that applies to a host, and where it is written. */
interface ProxyRun {
  run: Record<string, unknown>
  at: PathSegment[]
  owner: string
}

/**
 * Kamal's ensure_no_conflicting_proxy_runs: every role and accessory on a host
 * that brings a non-empty `proxy.run` must bring the same one (a role's is the
 * root proxy's deep-merged with its own), because one kamal-proxy container
 * serves the host.
 */
export function ensureNoConflictingProxyRuns(config: KamalConfig): void {
  for (const host of config.allHosts) {
    const runs = proxyRunsOn(config, host)
    const conflicting = runs.find((candidate) => !rubyEqual(candidate.run, runs[0].run))
    if (!conflicting) continue
    throw new ConfigError(
      `Conflicting proxy run configurations for host ${host}: ${conflicting.owner} sets a proxy.run that differs from ${runs[0].owner}'s. One kamal-proxy serves each host, so make their proxy.run settings identical (or move them to the root proxy.run).`,
      config.locate(conflicting.at, { key: true }),
    )
  }
}

function proxyRunsOn(config: KamalConfig, host: string): ProxyRun[] {
  const runs: ProxyRun[] = []
  for (const role of config.roles) {
    if (!role.proxy || !role.hosts.includes(host)) continue
    const run = role.proxy.raw.run
    if (!isHash(run) || !present(run)) continue
    const ownProxy = role.proxy.path.length > 1 ? valueAt(config.raw, role.proxy.path) : undefined
    const at = isHash(ownProxy) && ownProxy.run !== undefined ? [...role.proxy.path, 'run'] : ['proxy', 'run']
    runs.push({ run, at, owner: `role ${role.name}` })
  }
  for (const accessory of config.accessories) {
    const proxy = accessory.raw.proxy
    if (!accessory.hosts.includes(host) || !isHash(proxy) || !present(proxy)) continue
    if (!isHash(proxy.run) || !present(proxy.run)) continue
    runs.push({ run: proxy.run, at: ['accessories', accessory.name, 'proxy', 'run'], owner: `accessory ${accessory.name}` })
  }
  return runs
}

function valueAt(root: unknown, at: readonly PathSegment[]): unknown {
  return at.reduce<unknown>((value, segment) => (isHash(value) || Array.isArray(value) ? (value as Record<string, unknown>)[segment] : undefined), root)
}

/** Ruby's `==` on loaded YAML: hashes equal whatever their key order, arrays element by element. */
function rubyEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => rubyEqual(item, b[index]))
  }
  if (isHash(a) || isHash(b)) {
    if (!isHash(a) || !isHash(b)) return false
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && rubyEqual(a[key], b[key]))
  }
  return a === b
}
