/**
 * Kamal's `output.file` (Kamal::Output::FileLogger): one log file per run
 * that changes something, in `output.file.path`, named
 * `<YYYY-MM-DDTHH-MM-SS>[_<destination>]_<command>[_<subcommand>].log`,
 * holding the run's log and ending with `# Completed in <s>s` or
 * `# FAILED: <error class>: <message> (<s>s)`.
 * The naming and lines are pure; OutputFile is the small executor that tees
 * what the action prints into the file.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { outputSettings } from '../config/output'
import type { KamalConfig } from '../config/model'

export interface OutputRecord {
  command: string
  subcommand?: string
  destination?: string
  /** when the run started (local time, as Ruby's Time.now) */
  startedAt: Date
}

/** Kamal's `filename_for(payload)`. */
export function outputFileName(record: OutputRecord): string {
  const pad = (value: number) => String(value).padStart(2, '0')
  const at = record.startedAt
  const stamp = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}-${pad(at.getMinutes())}-${pad(at.getSeconds())}`
  const command = [record.command, record.subcommand].filter(Boolean).join('_')
  return `${[stamp, record.destination || undefined, command].filter(Boolean).join('_')}.log`
}

/** The closing line: Kamal rounds the runtime to one decimal. */
export function outputFileEnding(runtimeSeconds: number, error?: { name: string; message: string }): string {
  const runtime = `${(Math.round(runtimeSeconds * 10) / 10).toFixed(1)}s`
  return error ? `# FAILED: ${error.name}: ${error.message} (${runtime})` : `# Completed in ${runtime}`
}

/**
 * Only commands Kamal runs inside `modify` get a file: not `plan` (no
 * counterpart) nor `lock` (Kamal's lock commands log nowhere else).
 */
export function writesOutputFile(command: string): boolean {
  return command !== 'plan' && command !== 'lock'
}

/** Kamal's command/subcommand pair for an action command (`prune` is `kamal prune all`). */
export function kamalCommandOf(command: string, subcommand?: string): { command: string; subcommand?: string } {
  return command === 'prune' ? { command, subcommand: 'all' } : { command, subcommand }
}

/** A printed line the file must not hold: workflow commands, `::add-mask::<secret>` above all. */
function isWorkflowCommand(line: string): boolean {
  return line.startsWith('::')
}

/**
 * Tees process.stdout into the log file while open. Workflow command lines
 * are left out and every known secret value is replaced by `***`, as the
 * runner's own log masks them.
 */
export class OutputFile {
  readonly file: string
  private readonly fd: number
  private readonly secrets: string[]
  private readonly started: number
  private readonly originalWrite: typeof process.stdout.write
  private pending = ''
  private closed = false

  constructor(
    directory: string,
    record: OutputRecord,
    secrets: readonly string[],
    private readonly clock: () => number = Date.now,
  ) {
    // longest first, and each line of a multi-line secret on its own, as the runner masks them
    this.secrets = [...new Set(secrets.flatMap((secret) => [secret, ...secret.split('\n').map((line) => line.trim())]).filter((value) => value.length > 0))].sort((a, b) => b.length - a.length)
    fs.mkdirSync(directory, { recursive: true })
    this.file = path.join(directory, outputFileName(record))
    this.fd = fs.openSync(this.file, 'a')
    this.started = this.clock()
    this.originalWrite = process.stdout.write.bind(process.stdout)
    const tee = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      this.capture(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
      return (this.originalWrite as (...args: unknown[]) => boolean)(chunk, ...rest)
    }
    process.stdout.write = tee as typeof process.stdout.write
  }

  /** Writes the ending line, closes the file and says where it is, as Kamal does. */
  finish(error?: unknown): void {
    if (this.closed) return
    process.stdout.write = this.originalWrite
    this.closed = true
    if (this.pending && !isWorkflowCommand(this.pending)) this.writeLine(this.pending)
    const failure = error === undefined ? undefined : error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) }
    this.writeLine(outputFileEnding((this.clock() - this.started) / 1000, failure))
    fs.closeSync(this.fd)
    process.stdout.write(`Logs written to ${this.file}\n`)
  }

  private capture(text: string): void {
    const lines = (this.pending + text).split('\n')
    this.pending = lines.pop() ?? ''
    for (const line of lines) if (!isWorkflowCommand(line)) this.writeLine(line)
  }

  private writeLine(line: string): void {
    let masked = line
    for (const secret of this.secrets) if (secret) masked = masked.split(secret).join('***')
    fs.writeSync(this.fd, `${masked}\n`)
  }
}

/**
 * Opens the run's log file when the config sets `output.file.path` and the
 * command is one Kamal logs; the caller calls finish(error?) at the end.
 */
export function startOutputFile(
  config: KamalConfig,
  run: { command: string; subcommand?: string; projectDir: string },
  secretValues: readonly string[],
): OutputFile | undefined {
  const { filePath } = outputSettings(config)
  if (!filePath || !writesOutputFile(run.command)) return undefined
  const record = { ...kamalCommandOf(run.command, run.subcommand), destination: config.destination, startedAt: new Date() }
  return new OutputFile(path.resolve(run.projectDir, filePath), record, secretValues)
}
