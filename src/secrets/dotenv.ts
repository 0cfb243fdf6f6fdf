/**
 * The parser of a `.kamal/secrets*` file: the Ruby dotenv 3.2 gem's rules with
 * Kamal's replacement for `$(…)` command substitution. Every step below mirrors
 * one step of that parser, in the same order, because the order is observable
 * (e.g. command output is itself searched for `$VAR` afterwards).
 */
import { ConfigError, SourceLocation } from '../errors'

export interface DotenvEntry {
  value: string
  location: SourceLocation
  /** true when the key was in `skipCommandsFor` and a `$(…)` in its value was left unrun */
  commandsSkipped: boolean
}

/** A command that failed; its message says why (never its output). */
export class CommandFailedError extends Error {
  /** `includesFix`: the message already tells the user how to fix it */
  constructor(
    message: string,
    readonly includesFix = false,
  ) {
    super(message)
    this.name = 'CommandFailedError'
  }
}

/**
 * Runs the text of one `$(…)` (variables already substituted) and returns its
 * raw standard output. Throws an Error whose message says why it failed (never
 * the output) and how to fix it.
 */
export type CommandRunner = (command: string) => string

export interface ParseDotenvOptions {
  /** the file's path as shown to the user (relative to the project) */
  file: string
  /** the process environment `$VAR` falls back to */
  env: NodeJS.ProcessEnv
  runCommand: CommandRunner
  /** keys whose value is supplied elsewhere: their `$(…)` must not run at all */
  skipCommandsFor?: ReadonlySet<string>
  /** the supplied values of skipped keys, seen by later `$KEY` references in this file */
  suppliedValues?: Readonly<Record<string, string>>
  /** called with each value as soon as it is known (for masking) */
  onValue?: (key: string, value: string) => void
}

const SPACE = '[ \\t\\r\\n\\f\\v]'
const LINE_START = '(?:(?<![\\s\\S])|(?<=\\n))'
const LINE_END = '(?=\\n|(?![\\s\\S]))'

// dotenv's LINE pattern; Ruby's `^`/`$`/`\s` are spelled out so JavaScript matches exactly the same text.
const LINE = new RegExp(
  LINE_START +
    `${SPACE}*` +
    `(?<export>export${SPACE}+)?` +
    '(?<key>[\\w.]+)' +
    '(?:' +
    `(?:${SPACE}*=${SPACE}*?|:${SPACE}+?)` +
    '(?<value>' +
    `${SPACE}*'(?:\\\\'|[^'])*'` +
    '|' +
    `${SPACE}*"(?:\\\\"|[^"])*"` +
    '|' +
    '[^#\\n]+' +
    ')?' +
    ')?' +
    `${SPACE}*` +
    '(?:#.*)?' +
    LINE_END,
  'dg',
)

const QUOTED_STRING = /^(['"])([\s\S]*)\1$/
const RUBY_STRIP = /^[\0\t\n\v\f\r ]+|[\0\t\n\v\f\r ]+$/g
const VARIABLE = /(\\)?(\$)(?!\()\{?([A-Z0-9_]+)?\}?/gi
const SKIP_COMMAND_HINT = "pass the secret through the action's `secrets` input so the command is not run"

export function parseDotenv(text: string, options: ParseDotenvOptions): Map<string, DotenvEntry> {
  const source = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')
  const entries = new Map<string, DotenvEntry>()
  const values = new Map<string, string>()

  for (const match of source.matchAll(LINE)) {
    const groups = match.groups as { export?: string; key: string; value?: string }
    const keyStart = match.indices?.groups?.key?.[0] ?? match.index
    const location = locate(source, keyStart, options.file)

    if (groups.export !== undefined && groups.value === undefined) {
      if (!values.has(groups.key)) {
        throw new ConfigError(
          `${options.file}:${location.line}: 'export ${groups.key}' exports a variable that is not set above it. ` +
            `Define ${groups.key}=… on an earlier line, or remove the export line.`,
          location,
        )
      }
      continue
    }

    const skip = options.skipCommandsFor?.has(groups.key) ?? false
    let commandsSkipped = false
    const runCommand: FileCommandRunner = skip
      ? () => {
          commandsSkipped = true
          return ''
        }
      : withContext(options.runCommand, groups.key, location)
    const value = parseValue(groups.value ?? '', { values, env: options.env, runCommand })
    const supplied = skip ? options.suppliedValues?.[groups.key] : undefined
    values.set(groups.key, supplied ?? value)
    entries.set(groups.key, { value, location, commandsSkipped })
    options.onValue?.(groups.key, value)
  }
  return entries
}

/** Runs a command; `asWritten` is its text before variable substitution, safe to show in errors. */
type FileCommandRunner = (command: string, asWritten: string) => string

interface ValueContext {
  values: ReadonlyMap<string, string>
  env: NodeJS.ProcessEnv
  runCommand: FileCommandRunner
}

function parseValue(raw: string, context: ValueContext): string {
  const stripped = raw.replace(RUBY_STRIP, '')
  const quoted = QUOTED_STRING.exec(stripped)
  const quote = quoted?.[1]
  let value = quoted ? quoted[2] : stripped

  if (quote === "'") return value
  if (quote === '"') value = expandNewlines(value, context)
  value = value.replace(/\\([^$])/g, '$1')
  value = substituteCommands(value, context)
  return substituteVariables(value, context.values, context.env)
}

/** dotenv keeps `\n` in double quotes as a literal backslash-n unless DOTENV_LINEBREAK_MODE=legacy. */
function expandNewlines(value: string, context: ValueContext): string {
  const mode = context.values.get('DOTENV_LINEBREAK_MODE') ?? context.env.DOTENV_LINEBREAK_MODE
  if (mode === 'legacy') return value.replaceAll('\\n', '\n').replaceAll('\\r', '\r')
  return value.replaceAll('\\n', '\\\\n').replaceAll('\\r', '\\\\r')
}

/** `$NAME` / `${NAME}`: earlier keys of this file first, then the environment, else empty. `\$` escapes. */
function substituteVariables(value: string, values: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): string {
  return value.replace(VARIABLE, (whole: string, backslash: string | undefined, _dollar: string, name: string | undefined) => {
    if (backslash !== undefined) return whole.slice(1)
    if (name === undefined) return whole
    return values.get(name) ?? env[name] ?? ''
  })
}

/**
 * Kamal's `$(…)` substitution: balanced parentheses, backslash-escaped
 * characters inside, `\$(…)` left as `$(…)`. Each command has its variables
 * substituted, runs once, and its trailing newline is dropped.
 */
function substituteCommands(value: string, context: ValueContext): string {
  let out = ''
  let i = 0
  while (i < value.length) {
    if (value[i] === '\\' && value[i + 1] === '$' && value[i + 2] === '(') {
      const end = endOfParenthesized(value, i + 2)
      if (end > 0) {
        out += value.slice(i + 1, end)
        i = end
        continue
      }
    }
    if (value[i] === '$' && value[i + 1] === '(') {
      const end = endOfParenthesized(value, i + 1)
      if (end > 0) {
        const asWritten = value.slice(i + 2, end - 1)
        const command = substituteVariables(asWritten, context.values, context.env)
        out += chomp(context.runCommand(command, asWritten))
        i = end
        continue
      }
    }
    out += value[i]
    i++
  }
  return out
}

/**
 * Index just past the `)` closing the non-empty group opened at `open`, or -1.
 * Every nested group must be non-empty too. Iterative, so deep nesting cannot
 * overflow the stack.
 */
function endOfParenthesized(text: string, open: number): number {
  const elements = [0] // per open group, innermost last
  let i = open + 1
  while (i < text.length) {
    const ch = text[i]
    if (ch === ')') {
      if (elements.pop() === 0) return -1
      i++
      if (elements.length === 0) return i
      elements[elements.length - 1]++
      continue
    }
    if (ch === '(') {
      elements.push(0)
      i++
      continue
    }
    if (ch === '\\') {
      // `\.` in Ruby: any character but a newline
      if (i + 1 >= text.length || text[i + 1] === '\n') return -1
      i += 2
    } else {
      i++
    }
    elements[elements.length - 1]++
  }
  return -1
}

/** Ruby's String#chomp: one trailing \n, \r\n or \r. */
function chomp(text: string): string {
  return text.replace(/(?:\r\n|\n|\r)$/, '')
}

function withContext(runCommand: CommandRunner, key: string, location: SourceLocation): FileCommandRunner {
  return (command, asWritten) => {
    try {
      return runCommand(command)
    } catch (error) {
      if (error instanceof ConfigError) throw error
      const reason = (error instanceof Error ? error.message : String(error)).replace(/\.$/, '')
      const fix =
        error instanceof CommandFailedError && error.includesFix
          ? ''
          : ` Fix the command in ${location.file}, or ${SKIP_COMMAND_HINT}.`
      throw new ConfigError(
        `${location.file}:${location.line}: command \`$(${asWritten})\` for secret ${key} failed: ${reason}.${fix}`,
        location,
      )
    }
  }
}

function locate(source: string, index: number, file: string): SourceLocation {
  const before = source.slice(0, index)
  const lastNewline = before.lastIndexOf('\n')
  return { file, line: before.split('\n').length, column: index - lastNewline }
}
