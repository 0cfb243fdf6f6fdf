import * as exec from '@actions/exec'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { builderName, builderSettings } from '../commands/builder'
import type { KamalConfig } from '../config/model'
import type { Secrets } from '../secrets/load'

export class BuildError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BuildError'
  }
}

export interface BuildOptions {
  config: KamalConfig
  secrets: Secrets
  projectDir: string
  registryUser?: string
  registryPassword?: string
  noCache?: boolean
  log: (line: string) => void
  env?: NodeJS.ProcessEnv
}

interface Run {
  code: number
  output: string
}

async function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; log?: (line: string) => void } = {}): Promise<Run> {
  let output = ''
  const code = await exec.exec(command, args, {
    cwd: options.cwd,
    env: options.env as Record<string, string> | undefined,
    input: options.input !== undefined ? Buffer.from(options.input) : undefined,
    ignoreReturnCode: true,
    silent: true,
    listeners: {
      stdout: (data) => (output += data.toString()),
      stderr: (data) => (output += data.toString()),
    },
  })
  return { code, output }
}

/** Builds the image on the runner and pushes `<repo>:<version>` and `<repo>:<latest>` (spec §4.1). */
export async function buildAndPush(options: BuildOptions): Promise<void> {
  const { config, log } = options
  const env = { ...(options.env ?? process.env) }
  const settings = builderSettings(config)

  if ((await run('docker', ['--version'], { env }).catch(() => ({ code: 127, output: '' }))).code !== 0) {
    throw new BuildError('Docker is not installed locally: add a step that installs Docker (GitHub-hosted Ubuntu runners have it).')
  }
  const buildx = (await run('docker', ['buildx', 'version'], { env })).code === 0

  if (!config.localRegistry && options.registryPassword !== undefined) {
    const login = await run('docker', ['login', ...(config.registryServer ? [config.registryServer] : []), '-u', options.registryUser ?? '', '--password-stdin'], { env, input: options.registryPassword })
    if (login.code !== 0) throw new BuildError(`docker login to ${config.registryServer ?? 'Docker Hub'} failed on the runner:\n${login.output.trim()}\nCheck registry.username and the password secret.`)
    log(`docker login ${config.registryServer ?? ''} -u ${options.registryUser} --password-stdin  → ok`)
  }

  const buildDir = settings.context ? path.resolve(options.projectDir, settings.context) : await cloneForBuild(config, options.projectDir, log)
  const dockerfile = settings.dockerfile
  if (!fs.existsSync(path.resolve(buildDir, dockerfile))) {
    throw new BuildError(`Missing ${dockerfile} in ${settings.context ? buildDir : 'the committed tree'}: set builder.dockerfile, or commit the Dockerfile.`)
  }
  for (const name of settings.secrets) env[name] = options.secrets.get(name)

  const buildArgs = Object.entries(settings.args).flatMap(([key, value]) => ['--build-arg', `${key}=${value}`])
  const tags = ['-t', config.absoluteImage, '-t', config.latestImage]
  if (buildx) {
    const name = builderName(config, settings)
    if (name && (await run('docker', ['buildx', 'inspect', name], { env })).code !== 0) {
      log(`Missing compatible builder, so creating a new one first: ${name}`)
      const create = await run('docker', ['buildx', 'create', '--name', name, `--driver=${settings.driver}`, ...(config.localRegistry ? ['--driver-opt', 'network=host'] : [])], { env })
      if (create.code !== 0) throw new BuildError(`docker buildx create ${name} failed:\n${create.output.trim()}`)
    }
    const args = [
      // A local registry is served from the runner's Docker after the build (src/transfer): load, do not push.
      'buildx', 'build', config.localRegistry ? '--load' : '--output=type=registry',
      ...(settings.arch.length > 0 ? ['--platform', settings.arch.map((arch) => `linux/${arch}`).join(',')] : []),
      ...(name ? ['--builder', name] : []),
      ...tags,
      '--label', `service=${config.service}`,
      ...buildArgs,
      ...settings.secrets.flatMap((secret) => ['--secret', `id=${secret}`]),
      '--file', dockerfile,
      ...(settings.target ? ['--target', settings.target] : []),
      ...(options.noCache ? ['--no-cache'] : []),
      '.',
    ]
    await buildStep('docker', args, buildDir, env, log)
  } else {
    log('docker buildx is not installed: building with `docker build` and pushing each tag (builder secrets, cache and multi-arch need buildx)')
    const args = ['build', ...tags, '--label', `service=${config.service}`, ...buildArgs, '--file', dockerfile, ...(settings.target ? ['--target', settings.target] : []), ...(options.noCache ? ['--no-cache'] : []), '.']
    await buildStep('docker', args, buildDir, { ...env, DOCKER_BUILDKIT: '0' }, log)
    if (config.localRegistry) log('Local registry: the image stays in the runner\'s Docker; the pull serves it to the hosts over SSH')
    else for (const image of [config.absoluteImage, config.latestImage]) await buildStep('docker', ['push', image], buildDir, env, log)
  }
}

async function buildStep(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  const shown = args.map((arg, index) => (args[index - 1] === '--build-arg' ? `${arg.split('=')[0]}=[REDACTED]` : arg))
  log(`$ ${command} ${shown.join(' ')}`)
  const result = await run(command, args, { cwd, env })
  for (const line of result.output.trimEnd().split('\n').slice(-40)) log(`  ${line}`)
  if (result.code !== 0) throw new BuildError(`${command} ${args[0]} ${args[1] === 'build' ? 'build ' : ''}failed with exit status ${result.code}:\n${result.output.trimEnd().split('\n').slice(-15).join('\n')}`)
}

/** Where the committed tree is cloned for the build (Kamal's `kamal-clones/<service>-<hash>`). */
export function buildCloneDirectory(config: KamalConfig, projectDir: string): string {
  return path.join(os.tmpdir(), 'kamal-clones', `${config.service}-${createHash('sha256').update(projectDir).digest('hex').slice(0, 13)}`)
}

/** Kamal's default: build from a clone of the committed tree, so uncommitted files never reach the image. */
async function cloneForBuild(config: KamalConfig, projectDir: string, log: (line: string) => void): Promise<string> {
  const rootRun = await run('git', ['rev-parse', '--show-toplevel'], { cwd: projectDir })
  if (rootRun.code !== 0) throw new BuildError(`${projectDir} is not in a git repository: check out the repository, or set builder.context to build from the working tree.`)
  const root = rootRun.output.trim()
  const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: root })).output.trim()
  const cloneDir = buildCloneDirectory(config, projectDir)
  // A fresh local clone each time: git hard-links objects from a local source, so this is cheap and never stale.
  fs.rmSync(cloneDir, { recursive: true, force: true })
  fs.mkdirSync(path.dirname(cloneDir), { recursive: true })
  const clone = await run('git', ['clone', '--quiet', '--no-checkout', root, cloneDir])
  if (clone.code !== 0) throw new BuildError(`git clone of ${root} failed:\n${clone.output.trim()}`)
  const checkout = await run('git', ['-C', cloneDir, 'checkout', '--quiet', head])
  if (checkout.code !== 0) throw new BuildError(`git checkout ${head} in the build clone failed:\n${checkout.output.trim()}`)
  log(`Building from a local git clone of ${head.slice(0, 12)} (uncommitted changes are not included): ${cloneDir}`)
  return path.join(cloneDir, path.relative(root, projectDir))
}
