import * as exec from '@actions/exec'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { builderSettings, type RunnerFacts } from '../commands/builder'
import type { RunnerStep, RunnerStepRecord } from '../plan/runner-step'
import type { KamalConfig } from '../config/model'

export class BuildError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BuildError'
  }
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

/** Facts about the runner the build plan needs: buildx, and the clone to build from (read-only). */
export async function runnerFacts(config: KamalConfig, options: { projectDir: string; registryPassword?: string; registryUser?: string; env?: NodeJS.ProcessEnv }): Promise<RunnerFacts> {
  const env = { ...(options.env ?? process.env) }
  if ((await run('docker', ['--version'], { env }).catch(() => ({ code: 127, output: '' }))).code !== 0) {
    throw new BuildError('Docker is not installed locally: add a step that installs Docker (GitHub-hosted Ubuntu runners have it).')
  }
  const buildx = (await run('docker', ['buildx', 'version'], { env })).code === 0
  const settings = builderSettings(config)
  const login = options.registryPassword !== undefined
  if (settings.context) return { buildx, buildDirectory: path.resolve(options.projectDir, settings.context), login, registryUser: options.registryUser }
  const rootRun = await run('git', ['rev-parse', '--show-toplevel'], { cwd: options.projectDir })
  if (rootRun.code !== 0) throw new BuildError(`${options.projectDir} is not in a git repository: check out the repository, or set builder.context to build from the working tree.`)
  const root = rootRun.output.trim()
  const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: root })).output.trim()
  const directory = buildCloneDirectory(config, options.projectDir)
  return { buildx, buildDirectory: path.join(directory, path.relative(root, options.projectDir)), clone: { root, head, directory }, login, registryUser: options.registryUser }
}

export interface RunnerIo {
  secret: (name: string) => string
  registryPassword?: string
  env: NodeJS.ProcessEnv
  log: (line: string) => void
  redact: (text: string) => string
}

/** Runs one runner step of the plan; a failure throws a BuildError unless the step allows it. */
export async function runRunnerStep(step: RunnerStep, io: RunnerIo): Promise<RunnerStepRecord> {
  const startedAt = Date.now()
  const env: NodeJS.ProcessEnv = { ...io.env, ...(step.env ?? {}) }
  for (const name of step.secretEnv ?? []) env[name] = io.secret(name)
  if (step.skipIf) {
    const check = await run(step.skipIf.argv[0], step.skipIf.argv.slice(1), { cwd: step.skipIf.cwd ?? step.cwd, env })
    io.log(`$ ${step.skipIf.display}  → exit ${check.code}`)
    if (check.code === 0) return { step, outcome: 'skipped', code: 0, startedAt, endedAt: Date.now(), outputTail: '' }
  }
  if (step.argv[0] === 'docker' && step.argv.includes('--file')) {
    const dockerfile = step.argv[step.argv.indexOf('--file') + 1]
    if (!fs.existsSync(path.resolve(step.cwd, dockerfile))) throw new BuildError(`Missing ${dockerfile} in ${step.cwd}: set builder.dockerfile, or commit the Dockerfile.`)
  }
  io.log(`$ ${step.display}`)
  const result = await run(step.argv[0], step.argv.slice(1), { cwd: fs.existsSync(step.cwd) ? step.cwd : undefined, env, input: step.stdin === 'registry-password' ? io.registryPassword ?? '' : undefined })
  const tail = io.redact(result.output.trimEnd().split('\n').slice(-40).join('\n'))
  for (const line of tail.split('\n').filter(Boolean)) io.log(`  ${line}`)
  const record: RunnerStepRecord = { step, outcome: result.code === 0 ? 'ok' : 'failed', code: result.code, startedAt, endedAt: Date.now(), outputTail: tail }
  if (result.code !== 0 && !step.allowFailure) throw new BuildError(`${step.argv.slice(0, 3).join(' ')} failed with exit status ${result.code} (${step.purpose}):\n${tail.split('\n').slice(-15).join('\n')}`)
  return record
}

/** Where the committed tree is cloned for the build (Kamal's `kamal-clones/<service>-<hash>`). */
export function buildCloneDirectory(config: KamalConfig, projectDir: string): string {
  return path.join(os.tmpdir(), 'kamal-clones', `${config.service}-${createHash('sha256').update(projectDir).digest('hex').slice(0, 13)}`)
}
