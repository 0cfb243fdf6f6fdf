import { spawnSync } from 'node:child_process'

/** What a finished program left behind; stderr is passed through to the log, never kept. */
export interface ProgramResult {
  /** null when the program could not be started (e.g. not on PATH) or was killed */
  status: number | null
  signal: NodeJS.Signals | null
  stdout: string
  /** why it could not be started, when it could not */
  startError?: string
}

export interface RunProgramOptions {
  env: NodeJS.ProcessEnv
  cwd?: string
  /** send the program's stderr to ours (default) or drop it (for probes such as `op --version`) */
  stderr?: 'inherit' | 'ignore'
}

const MAX_OUTPUT_BYTES = 64 * 1024 * 1024

/**
 * Runs a program synchronously with an argv array (no shell in between).
 * Secrets are evaluated once, before anything else happens, so blocking is fine
 * and keeps the loader synchronous like Kamal's.
 */
export function runProgram(argv: readonly string[], options: RunProgramOptions): ProgramResult {
  const [program, ...args] = argv
  const result = spawnSync(program, args, {
    cwd: options.cwd,
    env: options.env,
    encoding: 'utf8',
    // No one can answer a prompt in CI; a closed stdin makes a prompting CLI fail instead of hang.
    stdio: ['ignore', 'pipe', options.stderr ?? 'inherit'],
    maxBuffer: MAX_OUTPUT_BYTES,
  })
  return {
    status: result.status,
    signal: result.signal,
    stdout: result.stdout ?? '',
    startError: result.error?.message,
  }
}

export function succeeded(result: ProgramResult): boolean {
  return result.status === 0 && result.startError === undefined
}

/** "exited with status 3", "was killed by SIGTERM", "could not be started (…)": never the output. */
export function describeFailure(result: ProgramResult): string {
  if (result.startError !== undefined) return `could not be started (${result.startError})`
  if (result.signal !== null) return `was killed by ${result.signal}`
  return `exited with status ${result.status}`
}
