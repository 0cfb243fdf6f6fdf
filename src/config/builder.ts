import type { SourceLocation } from '../errors'
import { isHash } from './load'
import type { PathSegment } from './yaml-source'

/** What the builder section needs from the rest of the config. */
export interface BuilderOwner {
  service: string
  image: string
  registryServer?: string
  localRegistry: boolean
  locate(at: readonly PathSegment[], options?: { key?: boolean }): SourceLocation
}

export interface BuilderCache {
  type: string
  options?: string
  image?: string
}

export type BuilderKind = 'local' | 'remote' | 'hybrid' | 'pack' | 'cloud'

const GHA_READ_OPTIONS = /^(url|url_v2|token|scope|timeout)=/

/**
 * The `builder:` section, read once, with the names and derivations of
 * Kamal::Configuration::Builder. Kamal asks Docker for the local architecture
 * inside `local_arches`; here it is a parameter (the runner's `docker info`),
 * so this class stays pure.
 */
export class BuilderConfig {
  readonly arches: string[]
  readonly remote?: string
  readonly driver: string
  readonly localDisabled: boolean
  readonly cache?: BuilderCache
  readonly args: Record<string, unknown>
  /** secret names (from .kamal/secrets) */
  readonly secrets: string[]
  readonly dockerfile: string
  readonly target?: string
  /** `builder.context` as written; undefined means Kamal's git-clone build */
  readonly contextSetting?: string
  readonly ssh?: string
  /** undefined when not set (false is a value: `--provenance false`) */
  readonly provenance?: unknown
  readonly sbom?: unknown
  readonly pack?: { builder: string; buildpacks: string[] }

  private readonly written: Record<string, unknown>

  constructor(
    raw: unknown,
    private readonly owner: BuilderOwner,
  ) {
    const builder = isHash(raw) ? raw : {}
    this.written = builder
    const arch = builder.arch
    this.arches = Array.isArray(arch) ? arch.map(String) : arch !== undefined && arch !== null ? [String(arch)] : []
    this.remote = text(builder.remote)
    this.driver = builder.driver !== undefined && builder.driver !== null ? String(builder.driver) : 'docker-container'
    this.localDisabled = builder.local === false
    const cache = builder.cache
    this.cache = isHash(cache) ? { type: String(cache.type), options: text(cache.options), image: text(cache.image) } : undefined
    this.args = isHash(builder.args) ? builder.args : {}
    this.secrets = Array.isArray(builder.secrets) ? builder.secrets.map(String) : []
    this.dockerfile = text(builder.dockerfile) ?? 'Dockerfile'
    this.target = text(builder.target)
    this.contextSetting = builder.context !== undefined && builder.context !== null ? String(builder.context) : undefined
    this.ssh = text(builder.ssh)
    this.provenance = builder.provenance ?? undefined
    this.sbom = builder.sbom ?? undefined
    const pack = builder.pack
    if (pack) {
      const spec = isHash(pack) ? pack : {}
      this.pack = { builder: String(spec.builder ?? ''), buildpacks: Array.isArray(spec.buildpacks) ? spec.buildpacks.map(String) : [] }
    }
  }

  /** The key is written in the config (with a value other than null). */
  isSet(key: string): boolean {
    return this.written[key] !== undefined && this.written[key] !== null
  }

  /** Kamal's `context`: "." unless set. */
  get context(): string {
    return this.contextSetting ?? '.'
  }

  /** Kamal's `git_clone?` (given that the project is in a git repository). */
  get gitClone(): boolean {
    return this.contextSetting === undefined
  }

  get isDockerDriver(): boolean {
    return this.driver === 'docker'
  }

  get isCloud(): boolean {
    return this.driver.startsWith('cloud')
  }

  get isCached(): boolean {
    return this.cache !== undefined
  }

  get isPack(): boolean {
    return this.pack !== undefined
  }

  localArches(dockerArch: string): string[] {
    if (this.localDisabled) return []
    if (this.remote) return this.arches.filter((arch) => arch === dockerArch)
    return this.arches
  }

  remoteArches(dockerArch: string): string[] {
    if (!this.remote) return []
    const local = this.localArches(dockerArch)
    return this.arches.filter((arch) => !local.includes(arch))
  }

  /** Kamal's `remote?`: some arch is built on the remote builder. */
  isRemote(dockerArch: string): boolean {
    return this.remoteArches(dockerArch).length > 0
  }

  /** Kamal's `local?`. */
  isLocal(dockerArch: string): boolean {
    return !this.localDisabled && (this.arches.length === 0 || this.localArches(dockerArch).length > 0)
  }

  /** Which of Kamal's builder classes does the build (Kamal::Commands::Builder#target). */
  kind(dockerArch: string): BuilderKind {
    if (this.isRemote(dockerArch)) return this.isLocal(dockerArch) ? 'hybrid' : 'remote'
    if (this.isPack) return 'pack'
    if (this.isCloud) return 'cloud'
    return 'local'
  }

  /** The buildx builder's name; undefined for the `docker` driver's local build and for pack. */
  builderName(dockerArch: string): string | undefined {
    switch (this.kind(dockerArch)) {
      case 'remote':
        return `kamal-remote-${this.remoteNameSuffix}`
      case 'hybrid':
        return `kamal-hybrid-${this.driver}-${this.remoteNameSuffix}`
      case 'cloud':
        return this.driver.replace(/[ /]/g, '-')
      case 'pack':
        return undefined
      case 'local':
        if (this.isDockerDriver) return undefined
        return this.owner.localRegistry ? `kamal-local-registry-${this.driver}` : `kamal-local-${this.driver}`
    }
  }

  /** `docker context` name of a remote/hybrid builder. */
  remoteContextName(dockerArch: string): string | undefined {
    const kind = this.kind(dockerArch)
    return kind === 'remote' || kind === 'hybrid' ? `${this.builderName(dockerArch)}-context` : undefined
  }

  get cacheFrom(): string | undefined {
    if (!this.cache) return undefined
    if (this.cache.type === 'gha') return ['type=gha', ...(this.cache.options?.split(',') ?? []).filter((option) => GHA_READ_OPTIONS.test(option))].join(',')
    if (this.cache.type === 'registry') return ['type=registry', `ref=${this.cacheImageRef}`].join(',')
    return undefined
  }

  get cacheTo(): string | undefined {
    if (!this.cache) return undefined
    if (this.cache.type === 'gha') return ['type=gha', this.cache.options].filter((part) => part !== undefined).join(',')
    if (this.cache.type === 'registry') return ['type=registry', `ref=${this.cacheImageRef}`, this.cache.options].filter((part) => part !== undefined).join(',')
    return undefined
  }

  /** Where a builder setting is written, for refusals (`builder.<key>`, or `builder` when unset). */
  locate(...key: PathSegment[]): SourceLocation {
    return this.owner.locate(['builder', ...key])
  }

  private get remoteNameSuffix(): string {
    return `${(this.remote ?? '').replace(/[^a-z0-9_-]/g, '-')}${this.owner.localRegistry ? '-local-registry' : ''}`
  }

  private get cacheImageRef(): string {
    const image = this.cache?.image ?? `${this.owner.image}-build-cache`
    return [this.owner.registryServer, image].filter((part) => part !== undefined).join('/')
  }
}

function text(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value)
}
