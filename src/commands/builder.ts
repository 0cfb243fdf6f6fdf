import { isHash } from '../config/load'
import type { KamalConfig } from '../config/model'
import { escapeShellValue } from '../shell'
import type { RunnerStep } from '../plan/runner-step'
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

/** What the plan needs to know about the runner before it builds. */
export interface RunnerFacts {
  buildx: boolean
  /** the directory the build runs in (the clone's project dir, or builder.context) */
  buildDirectory: string
  /** the clone to make first, when building from the committed tree */
  clone?: { root: string; head: string; directory: string }
  registryUser?: string
  login: boolean
}

/** Every runner command of `kamal build push`, in order. */
export function planBuild(config: KamalConfig, facts: RunnerFacts): RunnerStep[] {
  const settings = builderSettings(config)
  const steps: RunnerStep[] = []
  const step = (purpose: string, argv: string[], cwd: string, extra: Partial<RunnerStep> = {}): RunnerStep => ({ kind: 'runner', purpose, argv, display: displayArgv(argv), cwd, ...extra })
  if (facts.login && !config.localRegistry) {
    steps.push(step('log in to the registry', ['docker', 'login', ...(config.registryServer ? [config.registryServer] : []), '-u', facts.registryUser ?? '', '--password-stdin'], facts.buildDirectory, { stdin: 'registry-password' }))
  }
  if (facts.clone) {
    const { root, head, directory } = facts.clone
    steps.push(step('remove the old build clone', ['rm', '-rf', directory], root))
    steps.push(step('clone the committed tree', ['git', 'clone', '--quiet', '--no-checkout', root, directory], root))
    steps.push(step('check out the commit', ['git', '-C', directory, 'checkout', '--quiet', head], root))
  }
  const buildArgs = Object.entries(settings.args).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`])
  const tags = ['-t', config.absoluteImage, '-t', config.latestImage]
  const secretEnv = settings.secrets.length > 0 ? settings.secrets : undefined
  if (facts.buildx) {
    const name = builderName(config, settings)
    if (name) {
      const create = ['docker', 'buildx', 'create', '--name', name, `--driver=${settings.driver}`, ...(config.localRegistry ? ['--driver-opt', 'network=host'] : [])]
      steps.push(step('create the builder', create, facts.buildDirectory, { skipIf: { argv: ['docker', 'buildx', 'inspect', name], display: `docker buildx inspect ${name}` } }))
    }
    const argv = [
      'docker', 'buildx', 'build', config.localRegistry ? '--load' : '--output=type=registry',
      ...(settings.arch.length > 0 ? ['--platform', settings.arch.map((arch) => `linux/${arch}`).join(',')] : []),
      ...(name ? ['--builder', name] : []),
      ...tags, '--label', `service=${config.service}`, ...buildArgs,
      ...settings.secrets.flatMap((secret) => ['--secret', `id=${secret}`]),
      '--file', settings.dockerfile, ...(settings.target ? ['--target', settings.target] : []), '.',
    ]
    steps.push(step('build and push the image', argv, facts.buildDirectory, { secretEnv }))
  } else {
    const argv = ['docker', 'build', ...tags, '--label', `service=${config.service}`, ...buildArgs, '--file', settings.dockerfile, ...(settings.target ? ['--target', settings.target] : []), '.']
    steps.push(step('build the image (no buildx: the legacy builder)', argv, facts.buildDirectory, { env: { DOCKER_BUILDKIT: '0' }, secretEnv }))
    if (!config.localRegistry) for (const image of [config.absoluteImage, config.latestImage]) steps.push(step('push the image', ['docker', 'push', image], facts.buildDirectory))
  }
  return steps
}

function displayArgv(argv: string[]): string {
  return argv.map((arg, index) => (argv[index - 1] === '--build-arg' ? `${arg.split('=')[0]}=[REDACTED]` : /[\s"'$]/.test(arg) ? JSON.stringify(arg) : arg)).join(' ')
}
