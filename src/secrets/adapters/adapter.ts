import { CommandFailedError } from '../dotenv'
import { ProgramResult, RunProgramOptions } from '../run-program'

/** Runs a vault CLI by argv in the step's environment (or `env` when given). */
export type ProgramRunner = (argv: readonly string[], options?: Partial<Pick<RunProgramOptions, 'stderr' | 'env'>>) => ProgramResult

export interface AdapterContext {
  env: NodeJS.ProcessEnv
  run: ProgramRunner
}

export interface FetchRequest {
  names: readonly string[]
  account?: string
  from?: string
}

/** name → value; null where the vault holds no value (Kamal dumps it as JSON null) */
export type FetchedSecrets = Map<string, string | null>

export interface SecretsAdapter {
  requiresAccount: boolean
  fetch(request: FetchRequest, context: AdapterContext): FetchedSecrets
}

/** `--from F` turns `NAME` into `F/NAME`. */
export function prefixedNames(names: readonly string[], from: string | undefined): string[] {
  return names.map((name) => (from === undefined ? name : `${from}/${name}`))
}

/** Ruby's `String#split("/")`: trailing empty parts are dropped. */
export function splitPath(text: string): string[] {
  const parts = text.split('/')
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop()
  return parts
}

/** Kamal probes `<cli> --version` before anything else. */
export function requireCli(cli: string, product: string, context: AdapterContext): void {
  const probe = context.run([cli, '--version'], { stderr: 'ignore' })
  if (probe.status === 0 && probe.startError === undefined) return
  throw new CommandFailedError(
    `${product} CLI is not installed (\`${cli}\` was not found on PATH or failed to run). ` +
      `Install it in an earlier workflow step, or pass the secrets through the action's \`secrets\` input instead of \`kamal secrets fetch\``,
    true,
  )
}

/** Parses a CLI's JSON output; the error never quotes the output, which may hold secrets. */
export function parseCliJson(output: string, what: string): unknown {
  try {
    return JSON.parse(output)
  } catch {
    throw new CommandFailedError(`${what} did not print valid JSON`)
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
