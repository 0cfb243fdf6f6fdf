/**
 * Kamal hooks (spec §7): executables in `hooks_path` (default `.kamal/hooks`)
 * run on the machine doing the deploy, in the project directory, with the
 * KAMAL_* variables (and, for some hooks, every secret) in their environment.
 * `hookEnvironment` is pure; `runHook` is the edge that starts the process.
 */
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { isoSeconds } from './commands/lock'
import type { KamalConfig } from './config/model'
import { hooksOutputFor, type HookOutputLevel } from './config/hooks-output'

export const HOOK_NAMES = [
  'pre-connect',
  'pre-build',
  'pre-deploy',
  'pre-app-boot',
  'post-app-boot',
  'post-deploy',
  'docker-setup',
  'pre-proxy-reboot',
  'post-proxy-reboot',
] as const
export type HookName = (typeof HOOK_NAMES)[number]

/** Kamal runs these with `secrets: true`. */
const HOOKS_WITH_SECRETS: readonly HookName[] = ['pre-connect', 'pre-deploy', 'post-deploy']

export function hookReceivesSecrets(hook: HookName): boolean {
  return HOOKS_WITH_SECRETS.includes(hook)
}

export interface HookDetails {
  config: Pick<KamalConfig, 'service' | 'version' | 'destination'>
  /** git user.email, else the login name (as the audit log's performer) */
  performer: string
  recordedAt: Date
  /** every selected host, or the boot/reboot group's hosts (KAMAL_HOSTS, comma-joined) */
  hosts: readonly string[]
  /** only when the run was limited to some roles (KAMAL_ROLES) */
  roles?: readonly string[]
  /** whether this run holds the deploy lock now (KAMAL_LOCK) */
  lock: boolean
  /** `deploy`, `setup`, `redeploy`, `rollback`, or a group such as `app`/`proxy` */
  command: string
  /** `boot`, `reboot`… (absent for top-level commands) */
  subcommand?: string
  /** post-deploy: the run's duration in seconds (KAMAL_RUNTIME, rounded) */
  runtimeSeconds?: number
  /** every secret, name → value; added only for pre-connect, pre-deploy and post-deploy */
  secrets?: Readonly<Record<string, string>>
}

/** `<service>@<version>`, the version cut to 7 characters unless it contains `_` (Kamal's abbreviated_version). */
export function serviceVersion(service: string, version: string | undefined): string {
  if (version === undefined || version === null) return service
  return `${service}@${version.includes('_') ? version : version.slice(0, 7)}`
}

/**
 * The variables Kamal adds to a hook's environment, in Kamal's order
 * (Kamal::Tags then the run details); secrets last, so they win as in Kamal.
 */
export function hookEnvironment(hook: HookName, details: HookDetails): Record<string, string> {
  const { config } = details
  const tags: Array<[string, string | undefined]> = [
    ['RECORDED_AT', isoSeconds(details.recordedAt)],
    ['PERFORMER', details.performer],
    ['DESTINATION', config.destination || undefined],
    ['VERSION', config.version],
    ['SERVICE_VERSION', serviceVersion(config.service, config.version)],
    ['SERVICE', config.service],
    ['HOSTS', details.hosts.join(',')],
    ['ROLES', details.roles && details.roles.length > 0 ? details.roles.join(',') : undefined],
    ['LOCK', String(details.lock)],
    ['COMMAND', details.command],
    ['SUBCOMMAND', details.subcommand],
    ['RUNTIME', details.runtimeSeconds === undefined ? undefined : String(Math.round(details.runtimeSeconds))],
  ]
  const env: Record<string, string> = {}
  for (const [tag, value] of tags) if (value !== undefined) env[`KAMAL_${tag}`] = value
  if (hookReceivesSecrets(hook) && details.secrets) Object.assign(env, details.secrets)
  return env
}

/** `hooks_output` for one hook: `quiet`, `verbose`, or undefined (Kamal's default). */
export function hookOutputLevel(config: Pick<KamalConfig, 'raw'>, hook: HookName): HookOutputLevel | undefined {
  return hooksOutputFor(config, hook)
}

/**
 * What the log shows of a hook that ran, as Kamal's log level for it does
 * (SSHKit's local command at info, debug or error): by default the Running
 * and Finished lines; `verbose` adds the hook's output between them; `quiet`
 * shows nothing. A failing hook's output is in its HookError whatever the level.
 */
export function hookLogLines(run: HookRun, level: HookOutputLevel | undefined): string[] {
  if (level === 'quiet' || !run.ran) return []
  const output = level === 'verbose' ? run.output.trimEnd().split('\n').filter(Boolean).map((line) => `  ${line}`) : []
  return [`Running ${run.file}`, ...output, `Finished in ${(run.durationMs / 1000).toFixed(3)} seconds with exit status 0 (successful).`]
}

/** Where a hook's lines go: a titled, timed log section (Progress#phase). */
export type HookLogSection = (title: string, work: (log: (line: string) => void) => Promise<void>) => Promise<void>

/**
 * Runs a hook and logs it at its `hooks_output` level: inside a log section
 * titled `Hook <name>`, except that a quiet hook that succeeds leaves no
 * trace (a failing one still throws its HookError, output included).
 */
export async function runHookLogged(hook: HookName, options: RunHookOptions, level: HookOutputLevel | undefined, section: HookLogSection): Promise<void> {
  if (level === 'quiet') {
    await runHook(hook, options)
    return
  }
  await section(`Hook ${hook}`, async (log) => {
    for (const line of hookLogLines(await runHook(hook, options), level)) log(line)
  })
}

/** `<hooks_path>/<name>`, relative to the project directory as Kamal runs it. */
export function hookFile(hooksPath: string, hook: HookName): string {
  return path.posix.join(hooksPath.replace(/\\/g, '/'), hook)
}

export interface RunHookOptions {
  /** the Kamal project directory: the hook's cwd, and what `hooks_path` is relative to */
  projectDir: string
  /** `hooks_path` from the config (KamalConfig.hooksPath) */
  hooksPath: string
  /** the environment the hook inherits (normally process.env) */
  baseEnv: NodeJS.ProcessEnv
  /** hookEnvironment(...) */
  hookEnv: Record<string, string>
  /** each chunk of stdout/stderr as it arrives (for live logs); all output is also returned */
  onOutput?: (chunk: string) => void
  /** kill the hook after this long (no limit by default, as in Kamal) */
  timeoutMs?: number
}

export interface HookRun {
  /** false when there is no hook file: nothing ran */
  ran: boolean
  file: string
  /** stdout and stderr interleaved as they arrived */
  output: string
  durationMs: number
}

/** A hook that failed or could not be run; the message is what the annotation shows. */
export class HookError extends Error {
  constructor(
    readonly hook: HookName,
    message: string,
    readonly output = '',
  ) {
    super(message)
    this.name = 'HookError'
  }
}

/**
 * Runs `<hooks_path>/<name>` if it exists: argv is just the hook's path (no
 * shell), cwd is the project directory, the environment is `baseEnv` plus
 * `hookEnv`, stdin is closed. Non-zero exit → ``Hook `<name>` failed:`` with
 * the exit status and the output; a hook without the exec bit → an error
 * saying how to fix it.
 */
export async function runHook(hook: HookName, options: RunHookOptions): Promise<HookRun> {
  const file = hookFile(options.hooksPath, hook)
  const absolute = path.resolve(options.projectDir, file)
  const started = Date.now()
  const stat = statOrUndefined(absolute)
  if (!stat) return { ran: false, file, output: '', durationMs: 0 }
  if (!stat.isFile()) throw new HookError(hook, `Hook \`${hook}\` failed:\n${file} is not a file. Hooks are executables named after the hook, in ${options.hooksPath}.`)
  if (!isExecutable(absolute)) {
    throw new HookError(
      hook,
      `Hook \`${hook}\` failed:\n${file} is not executable. Run \`chmod +x ${file}\` and commit it (\`git update-index --chmod=+x ${file}\` keeps the bit in git).`,
    )
  }

  const env: NodeJS.ProcessEnv = { ...options.baseEnv, ...options.hookEnv }
  const result = await spawnCapturing(absolute, options.projectDir, env, options)
  const durationMs = Date.now() - started
  if (result.startError) {
    const hint = result.startError.includes('ENOEXEC') || result.startError.includes('EACCES') ? ` Make sure the first line is a #! line naming an interpreter that exists on the runner (e.g. #!/usr/bin/env bash).` : ''
    throw new HookError(hook, `Hook \`${hook}\` failed:\n${file} could not be started (${result.startError}).${hint}`, result.output)
  }
  if (result.status !== 0) {
    const how = result.signal ? `was killed by ${result.signal}${result.timedOut ? ` after ${options.timeoutMs} ms` : ''}` : `exit status: ${result.status}`
    const output = result.output.trimEnd()
    throw new HookError(hook, `Hook \`${hook}\` failed:\n${file} ${how}${output ? `\n${output}` : ''}`, result.output)
  }
  return { ran: true, file, output: result.output, durationMs }
}

interface SpawnResult {
  status: number | null
  signal: NodeJS.Signals | null
  output: string
  startError?: string
  timedOut: boolean
}

function spawnCapturing(program: string, cwd: string, env: NodeJS.ProcessEnv, options: RunHookOptions): Promise<SpawnResult> {
  return new Promise((resolve) => {
    let output = ''
    let timedOut = false
    let settled = false
    // Its own process group, so a timeout stops whatever the hook started too.
    const child = spawn(program, [], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.timeoutMs !== undefined })
    const collect = (data: Buffer) => {
      const chunk = data.toString('utf8')
      output += chunk
      options.onOutput?.(chunk)
    }
    child.stdout?.on('data', collect)
    child.stderr?.on('data', collect)
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            try {
              if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM')
            } catch {
              child.kill('SIGTERM')
            }
          }, options.timeoutMs)
    const finish = (result: Omit<SpawnResult, 'output' | 'timedOut'>) => {
      if (settled) return
      settled = true
      if (timer) clearTimeout(timer)
      resolve({ ...result, output, timedOut })
    }
    child.on('error', (error: NodeJS.ErrnoException) => finish({ status: null, signal: null, startError: error.code ? `${error.code}: ${error.message}` : error.message }))
    child.on('close', (status, signal) => finish({ status, signal }))
  })
}

function statOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file)
  } catch {
    return undefined
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}
