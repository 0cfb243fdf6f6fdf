import { createHash } from 'node:crypto'
import * as path from 'node:path'
import type { BuilderConfig } from '../config/builder'
import type { KamalConfig } from '../config/model'
import { ConfigError } from '../errors'
import type { RunnerStep } from '../plan/runner-step'
import { escapeShellValue, shellEscape } from '../shell'
import { argumentize } from './base'
import { evaluateShellWord } from './shell-word'

/** The runner could not build (no Docker, a failed step). */
export class BuildError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BuildError'
  }
}

/** What the plan needs to know about the runner, found once by `probeRunner` (src/deploy/build.ts). */
export interface RunnerFacts {
  docker: boolean
  buildx: boolean
  /** the buildpacks `pack` CLI is on PATH */
  pack: boolean
  /**
   * the runner Docker's architecture as Kamal names it (Kamal::Utils.docker_arch: amd64, arm64);
   * asked of `docker info` only where it decides something (a remote builder, or no buildx),
   * else node's own architecture
   */
  dockerArch: string
  /** the Kamal project directory (Kamal's Dir.pwd) */
  projectDir: string
  /** the repository the project is in (Kamal::Git.root and .revision), if any; `submodules: false` when HEAD has no .gitmodules */
  git?: { root: string; revision: string; submodules?: boolean }
  /** where build clones go: RUNNER_TEMP (one per job) when set, else the OS temp dir */
  tempDir: string
  /** `builder.dockerfile` exists relative to the project directory (Kamal checks before building) */
  dockerfilePresent: boolean
  /** the runner's environment, for the shell expansions of Kamal's command words ($SSH_AUTH_SOCK in builder.ssh) */
  env: Record<string, string | undefined>
  /** remote builders: the directory whose `ssh` wrapper pins the deploy key and known hosts (docker's ssh:// helper runs `ssh` from PATH) */
  remoteSsh?: { binDir: string }
}

export interface PlanBuildOptions {
  noCache?: boolean
  /** docker login on the runner: the username to use and as shown (a secret name is shown, not its value) */
  registryLogin?: { username: string; shown: string }
}

/** The runner's cache service variables; buildx's gha cache reads them from its environment. */
export const GHA_CACHE_VARIABLES = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL', 'ACTIONS_CACHE_URL', 'ACTIONS_CACHE_SERVICE_V2']

const INSTALL_BUILDX = 'Install docker buildx on the runner (e.g. a docker/setup-buildx-action step before this one; GitHub-hosted runners have it), or remove this setting.'

/**
 * One word of a command: `shell` is the word as Kamal writes it (quoted for
 * its shell), `shown` replaces it in the display (redacted build args),
 * `displayOnly` words (Kamal's `2>&1`) are shown but not passed.
 */
interface Word {
  shell: string
  shown?: string
  displayOnly?: boolean
}

type Words = Array<string | Word>

/**
 * Every runner process of Kamal's `build push`, in order: local registry
 * login, the build clone, builder inspect → remove/create, the build itself.
 * Pure: what it needs from the runner is in `facts`. A setting that cannot
 * work on this runner is refused here, at its place in the config, before
 * anything runs.
 */
export function planBuild(config: KamalConfig, facts: RunnerFacts, options: PlanBuildOptions = {}): RunnerStep[] {
  const builder = config.builder
  refuseWhatCannotWork(config, facts)
  const plan = new BuildPlan(config, builder, facts)
  const steps: RunnerStep[] = []
  const kind = builder.kind(facts.dockerArch)
  const logsInLocally = !config.localRegistry && kind !== 'remote' && kind !== 'hybrid'
  if (logsInLocally && options.registryLogin) steps.push(plan.login(options.registryLogin))
  if (builder.gitClone && facts.git) steps.push(...plan.clone(facts.git))
  if (!facts.buildx && kind !== 'pack') return [...steps, ...plan.legacyBuild(options.noCache ?? false)]
  steps.push(...plan.builderSetup())
  steps.push(...plan.build(options.noCache ?? false))
  return steps
}

/** The build command as the plan shows it (build-arg values redacted with `redactArgs`). */
export function buildCommand(config: KamalConfig, { noCache = false, redactArgs = false } = {}): string {
  const facts: RunnerFacts = { docker: true, buildx: true, pack: true, dockerArch: 'amd64', projectDir: '.', tempDir: '.', dockerfilePresent: true, env: {} }
  const plan = new BuildPlan(config, config.builder, facts)
  return plan.buildWords(noCache).map((word) => (typeof word === 'string' ? word : redactArgs ? (word.shown ?? word.shell) : word.shell)).join(' ')
}

/** The build clone's steps (Kamal's Cli::Build::Clone): the executor validates the clone after them and retries once from scratch. */
export function isCloneStep(step: RunnerStep): boolean {
  return step.argv[0] === 'git' || step.purpose === 'make the clone directory'
}

/** A step that brings a clone already there to the revision (Kamal's clone_reset_steps); not needed after a fresh clone. */
export function isCloneResetStep(step: RunnerStep): boolean {
  return step.argv[0] === 'git' && !step.skipIf
}

/** Kamal's clone directory, `<tmp>/kamal-clones/<service>-<13 hex of sha256(project dir)>`. */
export function cloneDirectory(service: string, projectDir: string, tempDir: string): string {
  return path.join(tempDir, 'kamal-clones', `${service}-${createHash('sha256').update(projectDir).digest('hex').slice(0, 13)}`)
}

class BuildPlan {
  private readonly kind

  constructor(
    private readonly config: KamalConfig,
    private readonly builder: BuilderConfig,
    private readonly facts: RunnerFacts,
  ) {
    this.kind = builder.kind(facts.dockerArch)
  }

  private get name(): string | undefined {
    return this.builder.builderName(this.facts.dockerArch)
  }

  private get contextName(): string {
    return this.builder.remoteContextName(this.facts.dockerArch) ?? ''
  }

  private get remote(): boolean {
    return this.kind === 'remote' || this.kind === 'hybrid'
  }

  /** Kamal's build_directory: the project's place inside the clone, or the project itself. */
  get buildDirectory(): string {
    const git = this.facts.git
    if (!this.builder.gitClone || !git) return this.facts.projectDir
    const relative = path.relative(git.root, this.facts.projectDir)
    return path.join(this.cloneDir, path.basename(git.root), relative)
  }

  private get cloneDir(): string {
    return cloneDirectory(this.config.service, this.facts.projectDir, this.facts.tempDir)
  }

  /** Env for every docker step of a remote builder: the ssh wrapper first on PATH. */
  private get dockerEnv(): Record<string, string> | undefined {
    if (!this.remote || !this.facts.remoteSsh) return undefined
    return { PATH: [this.facts.remoteSsh.binDir, this.facts.env.PATH].filter(Boolean).join(path.delimiter) }
  }

  private step(purpose: string, words: Words, extra: Partial<RunnerStep> = {}): RunnerStep {
    return {
      kind: 'runner',
      purpose,
      argv: words.filter((word) => typeof word === 'string' || !word.displayOnly).map((word) => evaluateShellWord(typeof word === 'string' ? word : word.shell, this.facts.env)),
      display: words.map((word) => (typeof word === 'string' ? word : (word.shown ?? word.shell))).join(' '),
      cwd: this.facts.projectDir,
      ...extra,
    }
  }

  private check(words: Words): NonNullable<RunnerStep['skipIf']> {
    const step = this.step('', words)
    return { argv: step.argv, display: step.display }
  }

  private docker(purpose: string, words: Words, extra: Partial<RunnerStep> = {}): RunnerStep {
    const env = this.dockerEnv
    return this.step(purpose, ['docker', ...words], env ? { env, ...extra } : extra)
  }

  login(login: { username: string; shown: string }): RunnerStep {
    const server = this.config.registryServer
    const words: Words = ['docker', 'login', ...(server ? [server] : []), '-u', { shell: escapeShellValue(login.username), shown: escapeShellValue(login.shown) }, '--password-stdin']
    return this.step('log in to the registry', words, { stdin: 'registry-password' })
  }

  /** Kamal::Commands::Builder::Clone: clone once, then reset the clone to HEAD on every build. */
  clone(git: NonNullable<RunnerFacts['git']>): RunnerStep[] {
    // Without a .gitmodules at HEAD, --recurse-submodules and `submodule update` do nothing but start ~20 processes.
    const recurse = git.submodules !== false
    const root = shellEscape(git.root)
    const repository = shellEscape(path.join(this.cloneDir, path.basename(git.root)))
    const buildDirectory = shellEscape(this.buildDirectory)
    const inClone = (purpose: string, ...words: string[]) => this.step(purpose, ['git', '-C', buildDirectory, ...words])
    return [
      this.step('make the clone directory', ['mkdir', '-p', shellEscape(this.cloneDir)]),
      this.step('clone the committed tree', ['git', '-C', shellEscape(this.cloneDir), 'clone', root, ...(recurse ? ['--recurse-submodules'] : [])], {
        skipIf: this.check(['git', '-C', repository, 'rev-parse', '--git-dir']),
      }),
      inClone('point the clone at the repository', 'remote', 'set-url', 'origin', root),
      inClone('fetch into the clone', 'fetch', 'origin'),
      inClone('reset the clone to the revision', 'reset', '--hard', git.revision),
      inClone('clean the clone', 'clean', '-fdx'),
      ...(recurse ? [inClone('update the clone\'s submodules', 'submodule', 'update', '--init')] : []),
      inClone('compact the clone', 'gc', '--auto', '--quiet'),
    ]
  }

  /** inspect → (on failure) remove, create; as Kamal's `build push` does. */
  builderSetup(): RunnerStep[] {
    if (this.kind === 'pack') return [this.step('inspect the buildpacks builder', ['pack', 'builder', 'inspect', this.builder.pack?.builder ?? ''])]
    if (this.kind === 'local' && this.builder.isDockerDriver) return []
    // The inspect runs before each of these with the step's env; once the builder exists, both are skipped.
    const skipIf = this.inspect()
    return [
      ...this.remove().map((step) => ({ ...step, skipIf, allowFailure: true })),
      ...this.create().map((step) => ({ ...step, skipIf })),
    ]
  }

  private inspect(): NonNullable<RunnerStep['skipIf']> {
    const name = this.name ?? ''
    if (!this.remote) return this.check(['docker', 'buildx', 'inspect', name])
    const pipeline = [
      `docker buildx inspect ${name} | grep -q Endpoint:.*${this.contextName}`,
      `docker context inspect ${this.contextName} --format '{{.Endpoints.docker.Host}}' | grep -xq ${this.builder.remote}`,
    ].join(' && ')
    const text = `${pipeline} || (echo no compatible builder && exit 1)`
    return { argv: ['sh', '-c', text], display: text }
  }

  private remove(): RunnerStep[] {
    const name = this.name ?? ''
    if (this.remote) {
      return [this.docker('remove the builder context', ['context', 'rm', this.contextName]), this.docker('remove the builder', ['buildx', 'rm', name])]
    }
    return [this.docker('remove the builder', ['buildx', 'rm', name])]
  }

  private create(): RunnerStep[] {
    const name = this.name ?? ''
    const driverOptions = this.config.localRegistry ? ['--driver-opt', 'network=host'] : []
    const createContext = () =>
      this.docker('create the builder context', ['context', 'create', this.contextName, '--description', `'${name} host'`, '--docker', `'host=${this.builder.remote}'`])
    switch (this.kind) {
      case 'cloud':
        return [this.docker('create the cloud builder', ['buildx', 'create', '--driver', ...this.builder.driver.split(' ')])]
      case 'remote':
        // Kamal chains these with `;`: the buildx create runs (and decides) even if the context exists.
        return [{ ...createContext(), allowFailure: true }, this.docker('create the builder', ['buildx', 'create', '--name', name, ...driverOptions, this.contextName])]
      case 'hybrid':
        return [
          this.docker('create the local builder', ['buildx', 'create', ...this.platform(this.builder.localArches(this.facts.dockerArch)), '--name', name, `--driver=${this.builder.driver}`, ...driverOptions]),
          createContext(),
          this.docker('append the remote builder', ['buildx', 'create', ...this.platform(this.builder.remoteArches(this.facts.dockerArch)), '--append', '--name', name, ...driverOptions, this.contextName]),
        ]
      default:
        return [this.docker('create the builder', ['buildx', 'create', '--name', name, `--driver=${this.builder.driver}`, ...driverOptions])]
    }
  }

  private platform(arches: string[]): string[] {
    return arches.length > 0 ? ['--platform', arches.map((arch) => `linux/${arch}`).join(',')] : []
  }

  private get secretEnv(): Partial<RunnerStep> {
    return this.builder.secrets.length > 0 ? { secretEnv: [...this.builder.secrets] } : {}
  }

  build(noCache: boolean): RunnerStep[] {
    if (this.kind === 'pack') return this.packBuild(noCache)
    const env: Record<string, string> = { ...(this.dockerEnv ?? {}), ...(this.remote ? { BUILDKIT_NO_CLIENT_TOKEN: '1' } : {}) }
    const passEnv = this.builder.cache?.type === 'gha' ? [...GHA_CACHE_VARIABLES] : undefined
    return [
      this.step('build and push', this.buildWords(noCache), {
        cwd: this.buildDirectory,
        ...(Object.keys(env).length > 0 ? { env } : {}),
        ...(passEnv ? { passEnv } : {}),
        ...this.secretEnv,
      }),
    ]
  }

  /** `docker buildx build …` with Kamal's flags in Kamal's order (Kamal::Commands::Builder::Base#push). */
  buildWords(noCache: boolean): Words {
    const builder = this.builder
    // Registry-free deploys serve the image from the runner's Docker (src/transfer): load it there instead of pushing.
    const output = this.config.localRegistry ? 'docker' : 'registry'
    return [
      'docker', 'buildx', 'build', `--output=type=${output}`,
      ...this.platform(builder.arches),
      ...(this.name && !(this.kind === 'local' && builder.isDockerDriver) ? ['--builder', this.name] : []),
      '-t', this.config.absoluteImage, '-t', this.config.latestImage,
      ...this.commonOptions(),
      ...(noCache ? ['--no-cache'] : []),
      builder.context,
      { shell: '2>&1', displayOnly: true },
    ]
  }

  /** Kamal's build_options: cache, label, args, secrets, file, target, ssh, provenance, sbom. */
  private commonOptions({ legacy = false } = {}): Words {
    const builder = this.builder
    const cache = builder.cacheTo && builder.cacheFrom ? ['--cache-to', builder.cacheTo, '--cache-from', builder.cacheFrom] : []
    const words: Words = [...cache, ...argumentize('--label', { service: this.config.service }), ...this.buildArgs('--build-arg')]
    if (!legacy) words.push(...argumentize('--secret', builder.secrets.map((secret) => `id=${escapeShellValue(secret)}`)))
    words.push(...argumentize('--file', [builder.dockerfile]))
    if (present(builder.target)) words.push(...argumentize('--target', [builder.target]))
    if (legacy) return words
    if (present(builder.ssh)) words.push(...argumentize('--ssh', [builder.ssh]))
    if (builder.provenance !== undefined) words.push(...argumentize('--provenance', [String(builder.provenance)]))
    if (builder.sbom !== undefined) words.push(...argumentize('--sbom', [String(builder.sbom)]))
    return words
  }

  /** `--build-arg KEY="value"`, shown as `KEY=[REDACTED]` as in Kamal's logs (Utils.argumentize sensitive:). */
  private buildArgs(flag: string): Words {
    return Object.entries(this.builder.args).flatMap(([key, value]): Words => {
      const [, word] = argumentize(flag, { [key]: value })
      return present(value) ? [flag, { shell: word, shown: `${key}=[REDACTED]` }] : [flag, word]
    })
  }

  /** Without buildx: the legacy builder, then a push of both tags (nothing to push for a registry-free deploy). */
  legacyBuild(noCache: boolean): RunnerStep[] {
    const words: Words = ['docker', 'build', '-t', this.config.absoluteImage, '-t', this.config.latestImage, ...this.commonOptions({ legacy: true }), ...(noCache ? ['--no-cache'] : []), this.builder.context]
    const build = this.step('build (legacy builder: docker buildx is not installed)', words, { cwd: this.buildDirectory, env: { DOCKER_BUILDKIT: '0' } })
    if (this.config.localRegistry) return [build]
    return [build, ...[this.config.absoluteImage, this.config.latestImage].map((image) => this.step('push', ['docker', 'push', image]))]
  }

  /** Kamal::Commands::Builder::Pack#push. Secrets go by name (`--env NAME`, pack reads the value from its environment), never in argv. */
  private packBuild(noCache: boolean): RunnerStep[] {
    const pack = this.builder.pack ?? { builder: '', buildpacks: [] }
    const secrets: Words = this.builder.secrets.flatMap((name): Words => ['--env', { shell: name, shown: `${name}=[REDACTED]` }])
    const words: Words = [
      'pack', 'build', this.config.repository,
      '--platform', `linux/${this.builder.localArches(this.facts.dockerArch)[0] ?? this.builder.arches[0]}`,
      '--creation-time', 'now',
      '--builder', pack.builder,
      ...[...pack.buildpacks, 'paketo-buildpacks/image-labels'].flatMap((buildpack) => ['--buildpack', buildpack]),
      '-t', this.config.absoluteImage, '-t', this.config.latestImage,
      ...(noCache ? ['--clear-cache'] : []),
      '--env', `BP_IMAGE_LABELS=service=${this.config.service}`,
      ...argumentize('--env', this.builder.args),
      ...secrets,
      '--path', this.builder.context,
    ]
    const build = this.step('build with buildpacks', words, { cwd: this.buildDirectory, ...this.secretEnv })
    if (this.config.localRegistry) return [build]
    return [build, ...[this.config.absoluteImage, this.config.latestImage].map((image) => this.step('push', ['docker', 'push', image]))]
  }
}

/** Settings this runner (or a registry-free deploy) cannot honour, refused at their place with the fix. */
function refuseWhatCannotWork(config: KamalConfig, facts: RunnerFacts): void {
  const builder = config.builder
  const kind = builder.kind(facts.dockerArch)
  const refuse = (message: string, ...key: Array<string | number>) => {
    throw new ConfigError(message, builder.locate(...key))
  }
  if (!facts.docker) throw new BuildError('Docker is not installed locally: add a step that installs Docker on the runner (GitHub-hosted Ubuntu runners have it).')
  if (kind === 'pack' && !facts.pack) {
    refuse('builder.pack builds with Cloud Native Buildpacks, but the `pack` CLI is not on the runner\'s PATH. Install it before this step (e.g. buildpacks/github-actions/setup-pack), or remove builder.pack to build the Dockerfile.', 'pack')
  }
  if (kind !== 'pack' && !facts.dockerfilePresent) {
    refuse(`Missing ${builder.dockerfile}: builder.dockerfile is read relative to the project directory (${facts.projectDir}). Commit the Dockerfile there, or set builder.dockerfile to its path.`, 'dockerfile')
  }
  if (builder.isDockerDriver) {
    if (builder.isCached) refuse(`builder.cache (${builder.cache?.type}) cannot work with driver: docker: the docker driver cannot export a build cache. Remove driver: docker (Kamal's default docker-container driver exports caches), or remove builder.cache.`, 'cache')
    if (builder.arches.length > 1) refuse('builder.arch lists several platforms, but driver: docker builds one. Remove driver: docker (the default docker-container driver builds multi-platform images), or build one arch.', 'arch')
    if (builder.remote) refuse('builder.remote cannot be used with driver: docker (the remote builder is a docker-container builder over SSH). Remove driver: docker, or remove builder.remote.', 'remote')
  }
  if (config.localRegistry) {
    if (kind === 'remote' || kind === 'hybrid') {
      refuse('builder.remote with a registry-free deploy (registry.server: localhost:…) would leave the image on the builder host: the action serves the image to your servers from the runner\'s own Docker. Build on the runner (remove builder.remote), or push through a real registry.', 'remote')
    }
    if (builder.arches.length > 1) {
      refuse('builder.arch lists several platforms, but a registry-free deploy (registry.server: localhost:…) serves the image from the runner\'s Docker, which holds one platform per tag. Set one arch (the one your servers run), or push through a real registry.', 'arch')
    }
  }
  if (builder.cache?.type === 'gha' && !facts.env.ACTIONS_RUNTIME_TOKEN && !/(^|,)token=/.test(builder.cache.options ?? '')) {
    refuse('builder.cache type gha needs the GitHub Actions cache service, whose token (ACTIONS_RUNTIME_TOKEN) is not in this environment. Run the deploy in a GitHub Actions job, give url= and token= in builder.cache.options, or use type: registry.', 'cache')
  }
  if (kind === 'pack') {
    const ignored = (['cache', 'ssh', 'provenance', 'sbom', 'target', 'dockerfile', 'driver', 'remote'] as const).find((key) => builder.isSet(key))
    if (ignored) refuse(`builder.${ignored} has no effect on a buildpacks build (builder.pack): pack builds without a Dockerfile or buildx. Remove builder.${ignored}, or remove builder.pack.`, ignored)
    return
  }
  if (facts.buildx) return
  const needsBuildx = (what: string, ...key: Array<string | number>) => refuse(`${what} needs docker buildx, which is not installed on the runner. ${INSTALL_BUILDX}`, ...key)
  if (builder.isCached) needsBuildx('builder.cache', 'cache')
  if (builder.arches.length > 1) needsBuildx('Building several platforms (builder.arch)', 'arch')
  if (builder.arches.length === 1 && builder.arches[0] !== facts.dockerArch && !builder.remote) needsBuildx(`Building ${builder.arches[0]} on this ${facts.dockerArch} runner (builder.arch)`, 'arch')
  if (builder.remote) needsBuildx('builder.remote', 'remote')
  if (kind === 'cloud') needsBuildx('A Docker Build Cloud builder (builder.driver)', 'driver')
  if (present(builder.ssh)) needsBuildx('builder.ssh', 'ssh')
  if (builder.provenance !== undefined) needsBuildx('builder.provenance', 'provenance')
  if (builder.sbom !== undefined) needsBuildx('builder.sbom', 'sbom')
  if (builder.secrets.length > 0) needsBuildx('builder.secrets (build secrets)', 'secrets')
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false && String(value).trim() !== ''
}
