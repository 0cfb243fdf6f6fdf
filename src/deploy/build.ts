import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { BuildError, cloneDirectory, GHA_CACHE_VARIABLES, isCloneResetStep, type RunnerFacts } from '../commands/builder'
import type { KamalConfig } from '../config/model'
import type { RunnerStep, RunnerStepRecord } from '../plan/runner-step'
import { shellEscape } from '../shell'

export { BuildError } from '../commands/builder'
export type { RunnerFacts } from '../commands/builder'

export interface RemoteBuilderSsh {
  privateKeys: string[]
  /** known_hosts lines (the action's ssh-known-hosts input) */
  knownHosts?: string
}

export interface StepIo {
  /** a secret's value by name (builder.secrets) */
  secrets: (name: string) => string
  registryPassword?: string
  /** the runner's environment the step starts from */
  env: NodeJS.ProcessEnv
  log: (line: string) => void
  /** aborted when the run fails elsewhere or the job is cancelled: the step's process group is stopped */
  signal?: AbortSignal
}

/** A runner step whose process was stopped (or never started) because its signal was aborted. */
export class StepStoppedError extends Error {
  constructor(step: RunnerStep) {
    super(`${step.purpose}: stopped, the run had failed or was cancelled`)
    this.name = 'StepStoppedError'
  }
}

const OUTPUT_TAIL_LINES = 40
/** how long a stopped step waits for what its process left behind (docker's buildx plugin) to end */
const STOP_GRACE_MS = 2000
/** a stopped step's process group gets SIGTERM this often until none of it is left, and SIGKILL after STOP_KILL_MS */
const STOP_RESIGNAL_MS = 250
const STOP_KILL_MS = 5000

/**
 * Runs one runner step: its skipIf first (exit 0 skips it), then its argv
 * without a shell. The environment is the runner's minus the cache-service
 * variables, plus those the step passes by name, its own, and its secrets.
 * The output tail is stripped of every secret value the step was given.
 */
export async function runRunnerStep(step: RunnerStep, io: StepIo): Promise<RunnerStepRecord> {
  const startedAt = Date.now()
  if (io.signal?.aborted) throw new StepStoppedError(step)
  const secretValues = (step.secretEnv ?? []).map((name) => io.secrets(name))
  if (step.stdin === 'registry-password') {
    if (io.registryPassword === undefined) throw new BuildError(`${step.purpose}: no registry password to give on standard input (set registry.password in the config)`)
    secretValues.push(io.registryPassword)
  }
  const redact = (text: string) => secretValues.filter((value) => value.length > 0).reduce((out, value) => out.split(value).join('***'), text)
  const env = stepEnvironment(step, io)

  if (step.skipIf) {
    const check = await runProcess(step.skipIf.argv, { cwd: step.skipIf.cwd ?? step.cwd, env })
    if (check.code === 0) {
      io.log(`$ ${step.display}  (skipped: ${step.skipIf.display} succeeded)`)
      return { step, outcome: 'skipped', code: 0, startedAt, endedAt: Date.now(), outputTail: '' }
    }
  }

  io.log(`$ ${step.display}`)
  const input = step.stdin === 'registry-password' ? io.registryPassword : undefined
  const result = await runProcess(step.argv, { cwd: step.cwd, env, input, signal: io.signal })
  if (result.stopped) throw new StepStoppedError(step)
  const outputTail = redact(result.output.trimEnd().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n'))
  for (const line of outputTail.split('\n').filter(Boolean)) io.log(`  ${line}`)
  const record: RunnerStepRecord = { step, outcome: result.code === 0 ? 'ok' : 'failed', code: result.code, startedAt, endedAt: Date.now(), outputTail }
  if (result.code !== 0 && !step.allowFailure) {
    throw new BuildError(`${step.purpose} failed on the runner with exit status ${result.code}: ${step.display}\n${outputTail.split('\n').slice(-15).join('\n')}`)
  }
  return record
}

function stepEnvironment(step: RunnerStep, io: StepIo): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(io.env)) if (value !== undefined && !GHA_CACHE_VARIABLES.includes(name)) env[name] = value
  for (const name of step.passEnv ?? []) {
    const value = io.env[name]
    if (value !== undefined) env[name] = value
  }
  Object.assign(env, step.env ?? {})
  for (const name of step.secretEnv ?? []) env[name] = io.secrets(name)
  return env
}

interface ProcessResult {
  code: number
  output: string
  /** the signal was aborted and the process stopped */
  stopped?: boolean
}

/**
 * Runs argv without a shell, output captured; a missing program exits 127. With a signal, the
 * process leads its own process group and an abort stops the whole group (SIGTERM, repeated): docker
 * passes no signal on to its buildx plugin, which would otherwise build and push to the end.
 */
function runProcess(argv: string[], options: { cwd?: string; env: Record<string, string>; input?: string; signal?: AbortSignal }): Promise<ProcessResult> {
  const { signal } = options
  return new Promise((resolve) => {
    let output = ''
    const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: options.env, stdio: [options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: signal !== undefined })
    /** false once the group has no process left */
    const signalGroup = (name: NodeJS.Signals): boolean => {
      if (child.pid === undefined) return false
      try {
        process.kill(-child.pid, name)
        return true
      } catch {
        return false
      }
    }
    // Again and again until no process of the group is left: a SIGTERM that reaches docker before it
    // has started its buildx plugin stops nothing (docker catches it and runs the plugin all the same),
    // and docker may exit before its plugin does. SIGKILL after STOP_KILL_MS.
    const stop = () => {
      const stopAt = Date.now()
      signalGroup('SIGTERM')
      const resignal = setInterval(() => {
        if (!signalGroup(Date.now() - stopAt >= STOP_KILL_MS ? 'SIGKILL' : 'SIGTERM')) clearInterval(resignal)
      }, STOP_RESIGNAL_MS)
      resignal.unref()
    }
    signal?.addEventListener('abort', stop, { once: true })
    child.stdout?.on('data', (data: Buffer) => (output += data.toString()))
    child.stderr?.on('data', (data: Buffer) => (output += data.toString()))
    let settled = false
    const settle = (result: ProcessResult) => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', stop)
      resolve(result)
    }
    child.on('error', (error: Error) => settle({ code: 127, output: `${output}${error.message}` }))
    const ended = (exitCode: number | null, exitSignal: NodeJS.Signals | null) => {
      const code = exitCode ?? 128 + (exitSignal ? os.constants.signals[exitSignal] : 0)
      // A process that ended well just as the run failed did its work: that is not a stop.
      settle({ code, output, stopped: signal?.aborted === true && code !== 0 })
    }
    child.on('close', ended)
    // Stopped, a process that outlived the group's SIGTERM may hold the output open: 'close' would wait for it.
    child.on('exit', (code, exitSignal) => {
      if (!signal?.aborted) return
      setTimeout(() => {
        child.stdout?.destroy()
        child.stderr?.destroy()
        ended(code, exitSignal)
      }, STOP_GRACE_MS).unref()
    })
    // A program that exits without reading its input must not fail the run with EPIPE.
    child.stdin?.on('error', () => undefined)
    if (options.input !== undefined) child.stdin?.end(options.input)
    if (signal?.aborted) stop()
  })
}

/** What the build plan needs from the runner: Docker, buildx, pack, the architecture, git, the Dockerfile. */
export async function probeRunner(env: NodeJS.ProcessEnv, project?: { config: KamalConfig; projectDir: string }): Promise<RunnerFacts> {
  const processEnv = definedEnv(env)
  const probeEnv = Object.fromEntries(Object.entries(processEnv).filter(([name]) => !GHA_CACHE_VARIABLES.includes(name)))
  const ok = async (argv: string[], cwd?: string) => (await runProcess(argv, { env: probeEnv, cwd })).code === 0
  const projectDir = realPath(project?.projectDir ?? process.cwd())
  // Side by side: each probe is a process start, and the deploy waits for all of them. The
  // runner's architecture matters only to a remote builder, or without buildx (a single arch
  // other than the runner's needs it); `pack` only to a buildpacks build.
  const builder = project?.config.builder
  const buildxProbe = ok(['docker', 'buildx', 'version'])
  // Without a buildx plugin file where docker looks, the architecture is asked beside the other
  // probes instead of after `docker buildx version` has failed. Only the schedule rests on that
  // guess: the facts are the probes' answers.
  const archNeeded = !builder || builder.remote
  const archAsked = archNeeded || !buildxPluginFilePresent(processEnv) ? dockerArchitecture(probeEnv) : undefined
  const archAnswer = archNeeded ? archAsked! : buildxProbe.then((present) => (present ? undefined : (archAsked ?? dockerArchitecture(probeEnv))))
  // A docker CLI that answered `buildx version` or `info` is installed: `docker --version` is asked
  // only when neither did (one process start less while the deploy waits for the probes).
  const dockerPresent = Promise.all([buildxProbe, archAnswer]).then(([present, info]) => present || info?.answered === true || ok(['docker', '--version']))
  const [docker, buildx, pack, git, architecture] = await Promise.all([
    dockerPresent,
    buildxProbe,
    !builder || builder.isPack ? ok(['pack', '--version']) : Promise.resolve(false),
    gitFacts(projectDir, probeEnv),
    archAnswer,
  ])
  const arch = architecture?.arch ?? nodeArch()
  return {
    docker,
    buildx: docker && buildx,
    pack,
    dockerArch: docker ? arch : nodeArch(),
    projectDir,
    git,
    tempDir: runnerTemp(env),
    dockerfilePresent: project ? fs.existsSync(path.resolve(projectDir, project.config.builder.dockerfile)) : true,
    env: processEnv,
  }
}

/** The directories the docker CLI finds plugins in (docker/cli's cli-plugins manager, on Linux). */
function cliPluginDirectories(env: Record<string, string>): string[] {
  const configDir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker')
  return [path.join(configDir, 'cli-plugins'), '/usr/local/lib/docker/cli-plugins', '/usr/local/libexec/docker/cli-plugins', '/usr/lib/docker/cli-plugins', '/usr/libexec/docker/cli-plugins']
}

function buildxPluginFilePresent(env: Record<string, string>): boolean {
  return cliPluginDirectories(env).some((directory) => fs.existsSync(path.join(directory, 'docker-buildx')))
}

/** Kamal::Utils.docker_arch; `answered` when docker info ran and exited 0. */
async function dockerArchitecture(env: Record<string, string>): Promise<{ arch: string; answered: boolean }> {
  const info = await runProcess(['docker', 'info', '--format', '{{.Architecture}}'], { env })
  const answered = info.code === 0
  const arch = answered ? info.output.trim() : ''
  if (/aarch64/.test(arch)) return { arch: 'arm64', answered }
  if (/x86_64/.test(arch)) return { arch: 'amd64', answered }
  return { arch: arch || nodeArch(), answered }
}

function nodeArch(): string {
  return os.arch() === 'x64' ? 'amd64' : os.arch()
}

async function gitFacts(projectDir: string, env: Record<string, string>): Promise<RunnerFacts['git']> {
  // The checkout's root and its commit from one process: the deploy waits for every probe's start.
  const [rootAndRevision, gitmodules] = await Promise.all([
    runProcess(['git', 'rev-parse', '--show-toplevel', 'HEAD'], { cwd: projectDir, env }),
    runProcess(['git', 'cat-file', '-e', 'HEAD:.gitmodules'], { cwd: projectDir, env }),
  ])
  const [root, revision] = rootAndRevision.output.trim().split('\n')
  if (rootAndRevision.code !== 0 || !root || !revision) return undefined
  return { root, revision, submodules: gitmodules.code === 0 }
}

/**
 * A remote builder's ssh: docker's ssh:// connection helper (docker/cli
 * cli/connhelper) runs `ssh` from PATH, with the user's ~/.ssh/config and
 * known_hosts. Instead of touching those, the build steps get a directory
 * first on PATH whose `ssh` runs the real one with the deploy key
 * (IdentitiesOnly) and the pinned host keys (StrictHostKeyChecking yes, no
 * global known_hosts). Files are 0600 in a 0700 directory under RUNNER_TEMP;
 * no key material is ever in an argv.
 */
export function prepareRemoteBuilderSsh(directory: string, ssh: RemoteBuilderSsh, env: NodeJS.ProcessEnv, log: (line: string) => void): string {
  const realSsh = findOnPath('ssh', env.PATH ?? '', directory)
  if (!realSsh) throw new BuildError('builder.remote needs an OpenSSH client (`ssh`) on the runner: docker reaches ssh:// builders through it. Install openssh-client before this step.')
  fs.rmSync(directory, { recursive: true, force: true })
  fs.mkdirSync(directory, { recursive: true, mode: 0o700 })
  const options: string[] = []
  ssh.privateKeys.forEach((key, index) => {
    const file = path.join(directory, `id-${index}`)
    fs.writeFileSync(file, key.endsWith('\n') ? key : `${key}\n`, { mode: 0o600 })
    options.push('-i', file)
  })
  if (options.length > 0) options.unshift('-o', 'IdentitiesOnly=yes')
  const knownHosts = path.join(directory, 'known_hosts')
  fs.writeFileSync(knownHosts, ssh.knownHosts?.trim() ? `${ssh.knownHosts.trimEnd()}\n` : '', { mode: 0o600 })
  options.push('-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null')
  if (ssh.knownHosts?.trim()) options.push('-o', 'StrictHostKeyChecking=yes')
  else {
    options.push('-o', 'StrictHostKeyChecking=accept-new')
    log('Warning: the remote builder\'s host key is not pinned (no ssh-known-hosts input); it is accepted on first use. Add its known_hosts line (ssh-keyscan <builder host>) to ssh-known-hosts.')
  }
  options.push('-o', 'BatchMode=yes')
  const script = ['#!/bin/sh', `exec ${[realSsh, ...options].map(shellEscape).join(' ')} "$@"`, ''].join('\n')
  fs.writeFileSync(path.join(directory, 'ssh'), script, { mode: 0o700 })
  return directory
}

function findOnPath(command: string, searchPath: string, exclude: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    if (path.resolve(dir) === path.resolve(exclude)) continue
    const candidate = path.join(dir, command)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/**
 * Kamal's Cli::Build::Clone#prepare: clone, or reset a clone that is already there, then check
 * the clone is clean and at the revision; on any failure delete it and clone once more. A fresh
 * clone is at the revision already: its reset steps are recorded as skipped.
 */
export async function prepareClone(steps: RunnerStep[], io: StepIo, revision: string, cloneDir: string): Promise<RunnerStepRecord[]> {
  const attempt = async () => {
    const records: RunnerStepRecord[] = []
    let freshClone = false
    for (const step of steps) {
      if (freshClone && isCloneResetStep(step)) {
        const now = Date.now()
        records.push({ step, outcome: 'skipped', code: 0, startedAt: now, endedAt: now, outputTail: '' })
        continue
      }
      const record = step.argv[0] === 'mkdir' ? makeDirectory(step, cloneDir, io) : { ...(await runRunnerStep(withoutNeedlessCheck(step), io)), step }
      if (step.skipIf && step.argv[0] === 'git') freshClone = record.outcome === 'ok'
      records.push(record)
    }
    const buildDir = steps[steps.length - 1].argv[2]
    const env = definedEnv(io.env)
    const [status, head] = await Promise.all([runProcess(['git', '-C', buildDir, 'status', '--porcelain'], { env }), runProcess(['git', '-C', buildDir, 'rev-parse', 'HEAD'], { env })])
    if (status.code !== 0 || status.output.trim() !== '') throw new BuildError(`Clone in ${buildDir} is dirty, ${status.output.trim()}`)
    if (head.output.trim() !== revision) throw new BuildError(`Clone in ${buildDir} is not on the correct revision, expected \`${revision}\` but got \`${head.output.trim()}\``)
    return records
  }
  try {
    return await attempt()
  } catch (error) {
    if (!(error instanceof BuildError)) throw error
    io.log(`Error preparing clone: ${error.message}, deleting and retrying...`)
    fs.rmSync(cloneDir, { recursive: true, force: true })
    return attempt()
  }
}

/** `mkdir -p` of the clone directory, done in-process: the same directory, one process start less. */
function makeDirectory(step: RunnerStep, directory: string, io: StepIo): RunnerStepRecord {
  const startedAt = Date.now()
  io.log(`$ ${step.display}`)
  fs.mkdirSync(directory, { recursive: true })
  return { step, outcome: 'ok', code: 0, startedAt, endedAt: Date.now(), outputTail: '' }
}

/** The clone's "already cloned?" check (`git -C <clone> rev-parse --git-dir`) cannot pass when the directory is missing: no process for it then. */
function withoutNeedlessCheck(step: RunnerStep): RunnerStep {
  const checked = step.skipIf?.argv[0] === 'git' && step.skipIf.argv[1] === '-C' ? step.skipIf.argv[2] : undefined
  if (checked === undefined || fs.existsSync(checked)) return step
  const { skipIf: _unneeded, ...rest } = step
  return rest
}

/** Where the committed tree is cloned for the build (Kamal's `kamal-clones/<service>-<hash>`), under RUNNER_TEMP when set. */
export function buildCloneDirectory(config: KamalConfig, projectDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return cloneDirectory(config.service, realPath(projectDir), runnerTemp(env))
}

/** One clone directory per job: RUNNER_TEMP is the job's own temp dir; elsewhere the OS temp dir. */
function runnerTemp(env: NodeJS.ProcessEnv): string {
  return env.RUNNER_TEMP || os.tmpdir()
}

function realPath(dir: string): string {
  try {
    return fs.realpathSync(dir)
  } catch {
    return path.resolve(dir)
  }
}

function definedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))
}
