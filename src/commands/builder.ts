import { isHash } from '../config/load'
import type { KamalConfig } from '../config/model'
import { escapeShellValue } from '../shell'
import { line } from './base'

export interface BuilderSettings {
  arch: string[]
  driver: string
  dockerfile: string
  context?: string
  target?: string
  args: Record<string, unknown>
  secrets: string[]
  cache?: { type: string; options?: string; image?: string }
  ssh?: string
  provenance?: unknown
  sbom?: unknown
}

export function builderSettings(config: KamalConfig): BuilderSettings {
  const raw = isHash(config.raw.builder) ? config.raw.builder : {}
  const cache = isHash(raw.cache) ? raw.cache : undefined
  return {
    arch: Array.isArray(raw.arch) ? raw.arch.map(String) : raw.arch ? [String(raw.arch)] : [],
    driver: raw.driver ? String(raw.driver) : 'docker-container',
    dockerfile: raw.dockerfile ? String(raw.dockerfile) : 'Dockerfile',
    context: raw.context ? String(raw.context) : undefined,
    target: raw.target ? String(raw.target) : undefined,
    args: isHash(raw.args) ? raw.args : {},
    secrets: Array.isArray(raw.secrets) ? raw.secrets.map(String) : [],
    cache: cache?.type ? { type: String(cache.type), options: cache.options ? String(cache.options) : undefined, image: cache.image ? String(cache.image) : undefined } : undefined,
    ssh: raw.ssh ? String(raw.ssh) : undefined,
    provenance: raw.provenance,
    sbom: raw.sbom,
  }
}

/** Kamal's local builder name (spec §4.1). */
export function builderName(config: KamalConfig, settings: BuilderSettings): string | undefined {
  if (settings.driver === 'docker') return undefined
  return config.localRegistry ? `kamal-local-registry-${settings.driver}` : `kamal-local-${settings.driver}`
}

function cacheArgs(config: KamalConfig, settings: BuilderSettings): string[] {
  const cache = settings.cache
  if (!cache) return []
  if (cache.type === 'registry') {
    const ref = `${[config.registryServer, cache.image ?? `${config.image}-build-cache`].filter(Boolean).join('/')}`
    return ['--cache-to', `type=registry,ref=${ref}${cache.options ? `,${cache.options}` : ''}`, '--cache-from', `type=registry,ref=${ref}`]
  }
  const readOptions = (cache.options ?? '').split(',').filter((option) => /^(url|url_v2|token|scope|timeout)=/.test(option))
  return ['--cache-to', `type=gha${cache.options ? `,${cache.options}` : ''}`, '--cache-from', ['type=gha', ...readOptions].join(',')]
}

/**
 * `docker buildx build … --output=type=registry …` exactly as Kamal emits it.
 * `redactArgs` replaces build-arg values with [REDACTED] for display, as Kamal's logs do.
 */
export function buildCommand(config: KamalConfig, { noCache = false, redactArgs = false } = {}): string {
  const settings = builderSettings(config)
  const name = builderName(config, settings)
  return line(
    'docker buildx build --output=type=registry',
    settings.arch.length > 0 && `--platform ${settings.arch.map((arch) => `linux/${arch}`).join(',')}`,
    name && `--builder ${name}`,
    `-t ${config.absoluteImage}`,
    `-t ${config.latestImage}`,
    ...cacheArgs(config, settings),
    `--label service="${config.service}"`,
    ...Object.entries(settings.args).flatMap(([key, value]) => ['--build-arg', redactArgs ? `${key}=[REDACTED]` : `${key}=${escapeShellValue(value)}`]),
    ...settings.secrets.flatMap((secret) => ['--secret', `id="${secret}"`]),
    `--file ${settings.dockerfile}`,
    settings.target && `--target ${settings.target}`,
    settings.ssh && `--ssh ${settings.ssh}`,
    settings.provenance !== undefined && settings.provenance !== null && `--provenance ${settings.provenance}`,
    settings.sbom !== undefined && settings.sbom !== null && `--sbom ${settings.sbom}`,
    noCache && '--no-cache',
    settings.context ?? '.',
    '2>&1',
  )
}
