/**
 * The config of one pull request's preview (here in src/config: only this folder reads the raw YAML), derived from the app's own (pure):
 * service `<service>-pr-<N>`, only the previewed role (on its hosts, as the
 * primary role), kamal-proxy host `pr-<N>.<domain>` (TLS only when the app's
 * proxy asks for it), no accessories, and a `latest` tag of its own.
 */
import { InputError } from '../errors'
import { previewHost, previewLatestTag, previewService } from '../preview/naming'
import { isHash, type RawConfig } from './load'
import { KamalConfig, type ConfigContext } from './model'

/** A KamalConfig whose `latest` tag is the preview's own, so building and tagging it never moves the app's `latest`. */
export class PreviewConfig extends KamalConfig {
  constructor(
    source: RawConfig,
    context: ConfigContext,
    readonly pr: number,
    readonly appService: string,
  ) {
    super(source, context)
  }

  override get latestTag(): string {
    return previewLatestTag(this.pr, this.destination)
  }
}

export interface PreviewOptions {
  pr: number
  /** undefined for removal: the route is removed by service name, no host is needed */
  domain?: string
  /** the `preview-role` input */
  role?: string
}

/** The role a preview runs: the `preview-role` input, else web, else the primary role; it must be behind kamal-proxy. */
export function previewRoleName(config: KamalConfig, wanted?: string): string {
  const names = config.roles.map((role) => role.name)
  const name = wanted ?? (names.includes('web') ? 'web' : config.primaryRoleName)
  const role = config.roles.find((item) => item.name === name)
  if (!role) throw new InputError('preview-role', `there is no role '${name}' in servers: of your config (roles: ${names.join(', ')}). Set preview-role to one of them.`)
  if (!role.proxy) throw new InputError('preview-role', `role '${name}' does not run behind kamal-proxy (proxy: false, or a non-primary role without proxy:), so a preview of it could not answer on a host name. Set preview-role to a proxied role.`)
  if (role.hosts.length === 0) throw new InputError('preview-role', `role '${name}' has no hosts in your config. Set preview-role to a role with hosts.`)
  return name
}

const clone = <T>(value: T): T => structuredClone(value)

/** The preview's raw config: a copy of the app's, with the changes above. */
export function previewRaw(config: KamalConfig, options: PreviewOptions): Record<string, unknown> {
  const roleName = previewRoleName(config, options.role)
  const raw = clone(config.raw)
  const servers = raw.servers
  const roleSpec: unknown = Array.isArray(servers) ? servers : isHash(servers) ? servers[roleName] : undefined
  const spec = isHash(roleSpec) ? { ...roleSpec } : roleSpec
  const host = previewHost(options.pr, options.domain ?? 'preview.invalid')
  if (isHash(spec) && isHash(spec.proxy)) {
    const roleProxy = { ...spec.proxy }
    delete roleProxy.host
    delete roleProxy.hosts
    spec.proxy = roleProxy
  }
  raw.service = previewService(config.service, options.pr)
  raw.servers = { [roleName]: spec }
  raw.primary_role = roleName
  const rootProxy = isHash(raw.proxy) ? { ...raw.proxy } : {}
  delete rootProxy.hosts
  rootProxy.host = host
  raw.proxy = rootProxy
  delete raw.accessories
  return raw
}

/** The preview's KamalConfig. */
export function previewConfig(config: KamalConfig, options: PreviewOptions): PreviewConfig {
  const raw = previewRaw(config, options)
  const source: RawConfig = { raw, files: config.source.files, locate: (at, locateOptions) => config.source.locate(at, locateOptions) }
  return new PreviewConfig(source, { destination: config.destination, version: config.version, projectDir: '' }, options.pr, config.service)
}
