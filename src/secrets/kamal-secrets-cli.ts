/**
 * `kamal secrets fetch|extract|print` as used inside `$(…)` in a secrets file.
 * Kamal runs these in-process with `--inline`; so do we, returning what Kamal
 * returns inline (fetch: the JSON shell-escaped, so that a later
 * `$(kamal secrets extract NAME ${SECRETS})` gets it back after splitting).
 */
import { shellEscape } from '../shell'
import { AdapterContext, FetchedSecrets } from './adapters/adapter'
import { lookupAdapter } from './adapters'
import { CommandFailedError } from './dotenv'
import { shellSplit, ShellSplitError } from './shell-split'

// Ruby's /\A\s*kamal\s*secrets\s+/ (Ruby's \s is ASCII whitespace only).
const KAMAL_SECRETS = /^[ \t\r\n\f\v]*kamal[ \t\r\n\f\v]*secrets[ \t\r\n\f\v]+/

export function isKamalSecretsCommand(command: string): boolean {
  return KAMAL_SECRETS.test(command)
}

export interface KamalSecretsContext extends AdapterContext {
  /** called with every fetched value, before anything else sees it (for masking) */
  onSecretValue?: (value: string) => void
  /** the loaded secrets, for `print`; absent while the secrets files are being parsed */
  currentSecrets?: () => Iterable<[string, string]>
}

/** Runs one `kamal secrets …` command line and returns its inline result. */
export function runKamalSecretsCommand(command: string, context: KamalSecretsContext): string {
  let words: string[]
  try {
    words = shellSplit(command)
  } catch (error) {
    if (error instanceof ShellSplitError) throw new CommandFailedError(`the command could not be split into words: ${error.message}`)
    throw error
  }
  // Kamal drops the first word (`kamal`) and hands the rest to its CLI.
  const [, group, subcommand, ...args] = words
  if (group !== 'secrets') throw new CommandFailedError(`\`${words.slice(0, 2).join(' ')}\` is not a kamal secrets command`)

  switch (subcommand) {
    case 'fetch':
      return fetch(args, context)
    case 'extract':
      return extract(args)
    case 'print':
      return print(args, context)
    default:
      throw new CommandFailedError(
        `unknown command \`kamal secrets ${subcommand ?? ''}\`; use \`kamal secrets fetch\`, \`extract\` or \`print\``,
        true,
      )
  }
}

function fetch(args: string[], context: KamalSecretsContext): string {
  const { options, positional } = parseOptions(args, { adapter: ['--adapter', '-a'], account: ['--account'], from: ['--from'] })
  if (options.adapter === undefined) {
    throw new CommandFailedError("No value provided for required options '--adapter'; add e.g. `--adapter 1password`", true)
  }
  const adapter = lookupAdapter(options.adapter)
  if (adapter.requiresAccount && (options.account === undefined || options.account.trim() === '')) {
    throw new CommandFailedError(
      `No value provided for required options '--account'; the ${options.adapter} adapter needs \`--account ACCOUNT\``,
      true,
    )
  }
  const results = adapter.fetch({ names: positional, account: options.account, from: options.from }, context)
  for (const value of results.values()) if (value !== null) context.onSecretValue?.(value)
  return shellEscape(jsonDump(results))
}

/** Ruby's JSON.dump of a Hash: insertion order kept, even for keys that look like numbers. */
function jsonDump(results: FetchedSecrets): string {
  const members = [...results].map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`)
  return `{${members.join(',')}}`
}

function extract(args: string[]): string {
  const { positional } = parseOptions(args, {})
  const [name, secretsJson] = positional
  if (name === undefined || secretsJson === undefined || positional.length > 2) {
    throw new CommandFailedError('usage: `kamal secrets extract NAME ${SECRETS}` (NAME and the JSON from `kamal secrets fetch`)', true)
  }
  let secrets: unknown
  try {
    secrets = JSON.parse(secretsJson)
  } catch {
    // Never quote the text: it holds the fetched secrets.
    throw new CommandFailedError('the secrets passed to `kamal secrets extract` are not valid JSON; pass the output of `kamal secrets fetch`', true)
  }
  if (typeof secrets !== 'object' || secrets === null || Array.isArray(secrets)) {
    throw new CommandFailedError('the secrets passed to `kamal secrets extract` are not a JSON object', true)
  }
  const entries = Object.entries(secrets)
  const exact = entries.find(([key]) => key === name)?.[1]
  // Ruby's `a || b`: only nil and false fall through to the suffix match.
  const value = exact !== undefined && exact !== null && exact !== false ? exact : entries.find(([key]) => key.endsWith(`/${name}`))?.[1]
  if (value === undefined || value === null) {
    throw new CommandFailedError(`Could not find secret ${name}; check the name against the ones passed to \`kamal secrets fetch\``, true)
  }
  return typeof value === 'string' ? value : JSON.stringify(value)
}

function print(args: string[], context: KamalSecretsContext): string {
  parseOptions(args, {})
  if (context.currentSecrets === undefined) {
    throw new CommandFailedError('`kamal secrets print` cannot be used inside a secrets file; remove it', true)
  }
  return [...context.currentSecrets()].map(([key, value]) => `${key}=${value}`).join('\n')
}

type OptionSpec = Record<string, string[]>

/**
 * Thor-style options: `--name VALUE`, `--name=VALUE`, aliases, anywhere among
 * the arguments. `--inline` (which Kamal appends) is accepted and ignored.
 */
function parseOptions<S extends OptionSpec>(args: string[], spec: S): { options: Partial<Record<keyof S, string>>; positional: string[] } {
  const options: Partial<Record<keyof S, string>> = {}
  const positional: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--inline') continue
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg)
      continue
    }
    const [flag, inlineValue] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    const option = Object.keys(spec).find((name) => spec[name].includes(flag)) as keyof S | undefined
    if (option === undefined) {
      const known = Object.values(spec).flat()
      throw new CommandFailedError(
        `unsupported option ${flag} for kamal secrets` + (known.length > 0 ? `; supported: ${known.join(', ')}` : ''),
        true,
      )
    }
    const value = inlineValue ?? args[++i]
    if (value === undefined) throw new CommandFailedError(`No value provided for option '${flag}'`, true)
    options[option] = value
  }
  return { options, positional }
}
