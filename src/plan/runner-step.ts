/**
 * A process the deploy runs on the runner (the GitHub Actions machine):
 * builder setup, the git clone for the build, the build itself. Steps are
 * data: `command: plan` prints `display`, the executor runs `argv` — one
 * path from config to a command, so what is shown is what runs.
 */
export interface RunnerStep {
  kind: 'runner'
  /** what the step is for, one short phrase ("create the builder", "build and push") */
  purpose: string
  /** executed without a shell */
  argv: string[]
  /** the command as shown in the plan and the log: build-arg values and secrets redacted */
  display: string
  /** absolute working directory */
  cwd: string
  /** non-secret environment added to the runner's (DOCKER_*, ACTIONS_* passthrough is added by name in `passEnv`) */
  env?: Record<string, string>
  /** names of variables copied from the runner's environment when present (ACTIONS_RUNTIME_TOKEN, …); never shown with values */
  passEnv?: string[]
  /** secret names (from .kamal/secrets) put into the process environment at run time, never shown */
  secretEnv?: string[]
  /** the registry password on standard input (docker login --password-stdin) */
  stdin?: 'registry-password'
  /** run first; when it exits 0 this step is skipped ("builder exists already") */
  skipIf?: { argv: string[]; display: string; cwd?: string }
  /** a non-zero exit is recorded, not fatal */
  allowFailure?: boolean
}

/** What running one RunnerStep did, for the record of the run. */
export interface RunnerStepRecord {
  step: RunnerStep
  /** 'skipped' when skipIf exited 0 */
  outcome: 'ok' | 'failed' | 'skipped'
  code: number
  startedAt: number
  endedAt: number
  /** the last lines of the process output (already free of secrets) */
  outputTail: string
}
