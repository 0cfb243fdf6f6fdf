import * as core from '@actions/core'
import type { AliasTable } from './config/aliases'
import { ConfigError, InputError } from './errors'
import { shellSplit } from './secrets/shell-split'

export const COMMANDS = ['deploy', 'redeploy', 'rollback', 'setup', 'plan', 'prune', 'lock', 'app', 'accessory', 'build', 'proxy', 'remove', 'server', 'audit'] as const
export type ActionCommand = (typeof COMMANDS)[number]

/** The second word of the commands that have one, as in the kamal CLI. */
const SUBCOMMANDS: Partial<Record<ActionCommand, readonly string[]>> = {
  lock: ['release', 'status', 'acquire'],
  app: ['maintenance', 'live', 'exec', 'boot', 'start', 'stop', 'remove', 'logs', 'details', 'containers', 'version'],
  accessory: ['boot', 'reboot', 'remove', 'logs', 'details', 'exec'],
  build: ['push'],
  proxy: ['boot', 'reboot'],
  server: ['exec'],
}

const COMMAND_LIST =
  'deploy, redeploy, rollback, setup, plan, prune, remove, audit, build push, lock release|status|acquire, app exec|boot|start|stop|remove|logs|details|containers|version|maintenance|live, proxy boot|reboot, server exec, accessory boot|reboot|remove|logs|details|exec <name|all>'

/** Everything the workflow step passed in `with:`, read and checked in one place. */
export interface ActionInputs {
  /** a placeholder (`plan`) while `alias` is set: resolveAlias gives the real one */
  command: ActionCommand
  /** `release` in `lock release`, `boot` in `accessory boot redis` */
  subcommand?: string
  /** `redis` (or `all`) in `accessory boot redis` */
  argument?: string
  /** Kamal's options in the command input (`--reuse`, `-n 50`); roles, hosts, version and primary are folded into the inputs below */
  options?: CommandOptions
  /** what `app exec` / `server exec` / `accessory exec` runs */
  commandLine?: string
  /** `-p/--primary`: only the primary host */
  primary?: boolean
  /** the `confirm` input (or -y in the command): what `kamal remove -y` / `proxy reboot -y` confirm */
  confirm?: boolean
  /** the `all-or-nothing` input: a deploy keeps every old container until all hosts are healthy, and puts every switched host back when one fails */
  allOrNothing?: boolean
  /**
   * The `command` input named no command of this action but could name a
   * config alias (e.g. `console`); resolveAlias replaces command, subcommand
   * and argument once the config is loaded, or refuses it.
   */
  alias?: { name: string; extraWords: string[] }
  configFile: string
  destination?: string
  /** explicit version; undefined means the commit SHA (or VERSION from the environment) */
  version?: string
  roles: string[]
  hosts: string[]
  sshPrivateKey?: string
  sshKnownHosts?: string
  /** the raw `secrets` input (dotenv lines or a JSON object); parsed by the secrets module */
  secrets: string
  githubToken?: string
  workingDirectory: string
  skipPush: boolean
  /** GitHub environment for the deployment record; default: the destination, else production */
  environment?: string
  /** create a GitHub deployment and its statuses (turn off in jobs that declare `environment:`) */
  deployment: boolean
}

export interface ParsedCommand {
  command: ActionCommand
  subcommand?: string
  argument?: string
  /** Kamal's options after the command words (`--reuse`, `-n 50`, `-m "why"`) */
  options?: CommandOptions
  /** the command line of `app exec`, `server exec`, `accessory exec`: its words joined with spaces, as Kamal joins them */
  commandLine?: string
}

const ALIAS_NAME = /^[a-z0-9_-]+$/

function isActionCommand(word: string): word is ActionCommand {
  return (COMMANDS as readonly string[]).includes(word)
}

/** Commands whose positional words after the subcommand (and accessory name) are a command line to run. */
const EXEC_COMMANDS = ['app exec', 'server exec', 'accessory exec']

/**
 * The action command in some words (`accessory boot redis`, `app exec --reuse
 * "bin/rails db:migrate"`); an InputError on the `command` input otherwise.
 * `origin` says where the words came from when they are not the input itself
 * (an alias), and is added to each message.
 */
export function parseCommand(words: readonly string[], origin = ''): ParsedCommand {
  const shown = `'${words.join(' ')}'${origin}`
  const command = words[0]
  if (!isActionCommand(command)) {
    throw new InputError('command', `${shown} is not a command of this action. Use one of: ${COMMAND_LIST}.`)
  }
  const subcommands = SUBCOMMANDS[command]
  const candidate = words.slice(1).find((word) => !word.startsWith('-'))
  const key = subcommands && candidate && subcommands.includes(candidate) ? `${command} ${candidate}` : command
  const { options, positionals } = parseCommandOptions(key, words.slice(1), shown)
  const [subcommand, argument] = positionals
  if (subcommands && !subcommands.includes(subcommand)) {
    throw new InputError('command', `${shown} needs one of ${subcommands.join(', ')} after ${command}, e.g. command: ${command} ${subcommands[0]}${command === 'accessory' ? ' all' : ''}.`)
  }
  if (command === 'accessory' && !argument) {
    throw new InputError('command', `${shown} needs the accessory's name or all, e.g. command: accessory ${subcommand} all.`)
  }
  const expected = (command === 'accessory' ? 2 : subcommands ? 1 : 0) + 1
  const rest = positionals.slice(expected - 1)
  if (EXEC_COMMANDS.includes(key)) {
    if (rest.length === 0) throw new InputError('command', `${shown}: No command provided. You must specify a command to execute, e.g. command: ${key}${command === 'accessory' ? ` ${argument}` : ''} "bin/rails db:migrate".`)
    checkExecOptions(options, shown)
    return { command, subcommand, argument: command === 'accessory' ? argument : undefined, options, commandLine: rest.join(' ') }
  }
  if (rest.length > 0) throw new InputError('command', `${shown} has extra words. Use one of: ${COMMAND_LIST}.`)
  if (key === 'lock acquire' && !options.message) throw new InputError('command', `${shown} needs a lock message, e.g. command: lock acquire -m "Database maintenance" (kamal's --message is required).`)
  return { command, subcommand, argument: command === 'accessory' ? argument : undefined, options }
}

// ---- Kamal's command options, read as Thor reads the CLI's argv ----

/** Kamal options of the commands this action runs (Thor's option names and aliases). */
export interface CommandOptions {
  roles?: string
  hosts?: string
  version?: string
  primary?: boolean
  reuse?: boolean
  detach?: boolean
  rawOutput?: boolean
  lines?: number
  since?: string
  grep?: string
  grepOptions?: string
  skipTimestamps?: boolean
  containerId?: string
  message?: string
  confirmed?: boolean
  rolling?: boolean
}

interface OptionSpec {
  key: keyof CommandOptions
  kind: 'boolean' | 'string' | 'number'
  names: string[]
}

const option = (key: keyof CommandOptions, kind: OptionSpec['kind'], ...names: string[]): OptionSpec => ({ key, kind, names })

/** Kamal's class options every command takes (the others of them are this action's inputs). */
const GLOBAL_OPTIONS = [option('roles', 'string', '-r', '--roles'), option('hosts', 'string', '-h', '--hosts'), option('version', 'string', '--version'), option('primary', 'boolean', '-p', '--primary')]

const LOG_OPTIONS = [option('lines', 'number', '-n', '--lines'), option('since', 'string', '-s', '--since'), option('grep', 'string', '-g', '--grep'), option('grepOptions', 'string', '--grep-options', '--grep_options'), option('skipTimestamps', 'boolean', '-T', '--skip-timestamps', '--skip_timestamps')]

const COMMAND_OPTIONS: Record<string, OptionSpec[]> = {
  'app exec': [option('reuse', 'boolean', '--reuse'), option('detach', 'boolean', '--detach'), option('rawOutput', 'boolean', '--raw')],
  'app logs': [...LOG_OPTIONS, option('containerId', 'string', '--container-id', '--container_id')],
  'accessory logs': LOG_OPTIONS,
  'accessory exec': [option('reuse', 'boolean', '--reuse'), option('rawOutput', 'boolean', '--raw')],
  'server exec': [option('rawOutput', 'boolean', '--raw')],
  'lock acquire': [option('message', 'string', '-m', '--message')],
  remove: [option('confirmed', 'boolean', '-y', '--confirmed')],
  'accessory remove': [option('confirmed', 'boolean', '-y', '--confirmed')],
  'proxy reboot': [option('rolling', 'boolean', '--rolling'), option('confirmed', 'boolean', '-y', '--confirmed')],
}

/** Kamal options a workflow step cannot honour, and why; the fix is in each message. */
const REFUSED_OPTIONS: Record<string, string> = {
  '-i': 'needs a terminal, and a workflow step has none. Drop it: without it the command runs with its output in the log and its exit status as the step\'s',
  '--interactive': 'needs a terminal, and a workflow step has none. Drop it: without it the command runs with its output in the log and its exit status as the step\'s',
  '-f': 'follows the log until interrupted, which would hold the job open. Use --lines or --since instead',
  '--follow': 'follows the log until interrupted, which would hold the job open. Use --lines or --since instead',
  '-e': 'is not supported here. Set the variables in the command instead, e.g. "env FOO=bar bin/task"',
  '--env': 'is not supported here. Set the variables in the command instead, e.g. "env FOO=bar bin/task"',
  '-d': "is this action's 'destination' input. Set destination in the step's with:",
  '--destination': "is this action's 'destination' input. Set destination in the step's with:",
  '-c': "is this action's 'config-file' input. Set config-file in the step's with:",
  '--config-file': "is this action's 'config-file' input. Set config-file in the step's with:",
  '-P': "is this action's 'skip-push' input. Set skip-push: true in the step's with:",
  '--skip-push': "is this action's 'skip-push' input. Set skip-push: true in the step's with:",
}

function parseCommandOptions(key: string, words: readonly string[], shown: string): { options: CommandOptions; positionals: string[] } {
  const specs = [...GLOBAL_OPTIONS, ...(COMMAND_OPTIONS[key] ?? [])]
  const execs = EXEC_COMMANDS.includes(key)
  const options: CommandOptions = {}
  const positionals: string[] = []
  const leading = key.split(' ').length - 1 + (key.startsWith('accessory ') ? 1 : 0)
  for (let index = 0; index < words.length; index++) {
    const word = words[index]
    if (word === '--') {
      positionals.push(...words.slice(index + 1))
      break
    }
    if (!word.startsWith('-') || word === '-') {
      positionals.push(word)
      continue
    }
    const [name, inline] = word.includes('=') ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)] : [word, undefined]
    const negated = name.startsWith('--no-') ? `--${name.slice(5)}` : undefined
    const spec = specs.find((item) => item.names.includes(name) || (negated !== undefined && item.kind === 'boolean' && item.names.includes(negated)))
    if (!spec) {
      // Thor hands an unknown switch after the command's first word to the command itself (`app exec ls -la`).
      if (execs && positionals.length > leading) {
        positionals.push(word)
        continue
      }
      const refusal = REFUSED_OPTIONS[name]
      if (refusal) throw new InputError('command', `${shown}: ${name} ${refusal}.`)
      const known = specs.flatMap((item) => item.names.filter((item) => item.startsWith('--')))
      throw new InputError('command', `${shown}: ${name} is not an option of kamal ${key} as this action runs it. Options it takes: ${known.join(', ')}.`)
    }
    if (spec.kind === 'boolean') {
      if (inline !== undefined) throw new InputError('command', `${shown}: ${name} is a switch and takes no value. Write ${name} alone.`)
      ;(options as Record<string, unknown>)[spec.key] = negated === undefined
      continue
    }
    const value = inline ?? words[++index]
    if (value === undefined || (inline === undefined && value.startsWith('-'))) throw new InputError('command', `${shown}: ${name} needs a value, e.g. ${name}=${spec.kind === 'number' ? '50' : 'web'}.`)
    if (spec.kind === 'number') {
      if (!/^\d+$/.test(value)) throw new InputError('command', `${shown}: ${name} takes a whole number, not '${value}'.`)
      ;(options as Record<string, unknown>)[spec.key] = Number(value)
    } else {
      ;(options as Record<string, unknown>)[spec.key] = value
    }
  }
  return { options, positionals }
}

function checkExecOptions(options: CommandOptions, shown: string): void {
  if (options.detach && options.reuse) throw new InputError('command', `${shown}: Detach is not compatible with reuse. Drop --detach or --reuse.`)
  if (options.rawOutput && options.detach) throw new InputError('command', `${shown}: Raw is not compatible with detach. Drop --raw or --detach.`)
}

/**
 * Kamal's alias expansion (Kamal::Cli::Alias::Command): the alias' command
 * line split as Shellwords.split does, then the words after the alias name.
 * Undefined when the first word names no alias.
 */
export function expandAlias(commandInput: string, aliases: Readonly<Record<string, string>>): string[] | undefined {
  const [name, ...rest] = commandInput.trim().split(/\s+/)
  if (!Object.prototype.hasOwnProperty.call(aliases, name)) return undefined
  return [...shellSplit(aliases[name]), ...rest]
}

/** Kamal options an alias may carry, and the input of this action that does the same. */
const OPTION_INPUTS: Record<string, string> = {
  '-d': 'destination',
  '--destination': 'destination',
  '-r': 'roles',
  '--roles': 'roles',
  '-h': 'hosts',
  '--hosts': 'hosts',
  '--version': 'version',
  '-P': 'skip-push',
  '--skip-push': 'skip-push',
  '--skip_push': 'skip-push',
  '-c': 'config-file',
  '--config-file': 'config-file',
  '--config_file': 'config-file',
}

/**
 * The inputs with a pending alias resolved against the config's aliases: its
 * expansion must be a command this action runs, without Kamal options (those
 * are this action's inputs). Otherwise a ConfigError at the alias' line that
 * names the `command` input. Inputs without a pending alias come back as they are.
 */
export function resolveAlias(inputs: ActionInputs, aliases: AliasTable): ActionInputs {
  if (!inputs.alias) return inputs
  const { name, extraWords } = inputs.alias
  const definition = Object.prototype.hasOwnProperty.call(aliases, name) ? aliases[name] : undefined
  if (!definition) {
    const known = Object.keys(aliases)
    throw new InputError(
      'command',
      `'${[name, ...extraWords].join(' ')}' is not a command of this action${known.length > 0 ? ` nor one of the config's aliases (${known.join(', ')})` : ', and the config defines no aliases'}. Use one of: ${COMMAND_LIST}.`,
    )
  }
  const at = `${definition.location.file}:${definition.location.line}`
  const refuse = (why: string): never => {
    throw new ConfigError(`Input 'command': '${name}' is the alias at ${at} for '${definition.command}', ${why}`, definition.location)
  }
  let words: string[]
  try {
    words = expandAlias([name, ...extraWords].join(' '), { [name]: definition.command }) ?? []
  } catch (error) {
    return refuse(`which cannot be split into words (${error instanceof Error ? error.message : String(error)}). Fix the quoting.`)
  }
  const option = words.find((word) => Object.prototype.hasOwnProperty.call(OPTION_INPUTS, word.split('=')[0]) || Object.prototype.hasOwnProperty.call(REFUSED_OPTIONS, word.split('=')[0]))
  if (option !== undefined) {
    const input = OPTION_INPUTS[option.split('=')[0]]
    refuse(
      input
        ? `which passes ${option}: this action takes that as the '${input}' input. Drop it from the alias and set ${input} in the step's with:.`
        : `which passes ${option}, an option this action has no equivalent for. Drop it from the alias.`,
    )
  }
  let parsed: ParsedCommand
  try {
    parsed = parseCommand(words, ` (alias ${name} at ${at})`)
  } catch (error) {
    if (!(error instanceof InputError)) throw error
    return refuse(`which this action cannot run: ${error.message.replace(/^Input 'command': /, '')}`)
  }
  requireVersionForRollback(parsed.command, inputs.version)
  return withCommandOptions({ ...inputs, ...parsed, alias: undefined })
}

function requireVersionForRollback(command: ActionCommand, version: string | undefined): void {
  if (command === 'rollback' && version === undefined) {
    throw new InputError('version', "rollback needs the version to return to, e.g. version: ${{ inputs.version }} (a tag or SHA you deployed before).")
  }
}

type InputReader = (name: string) => string

const fromActions: InputReader = (name) => core.getInput(name)

export function readInputs(read: InputReader = fromActions): ActionInputs {
  const text = (name: string) => read(name).trim()
  const optional = (name: string) => text(name) || undefined

  const words = commandWords(text('command') || 'deploy')
  const possibleAlias = !isActionCommand(words[0]) && ALIAS_NAME.test(words[0])
  const parsed: ParsedCommand = possibleAlias ? { command: 'plan' } : parseCommand(words)

  const destination = optional('destination')
  if (destination !== undefined && !/^[A-Za-z0-9_.-]+$/.test(destination)) {
    throw new InputError('destination', `'${destination}' is not a destination name. Use the <dest> part of config/deploy.<dest>.yml, e.g. staging.`)
  }

  const version = optional('version')
  if (version !== undefined && !/^[A-Za-z0-9_.-]+$/.test(version)) {
    throw new InputError('version', `'${version}' cannot be a Docker image tag. Use letters, digits, '_', '.' and '-' only (the commit SHA is the default).`)
  }
  requireVersionForRollback(parsed.command, version ?? parsed.options?.version)

  const sshPrivateKey = read('ssh-private-key') || undefined
  if (sshPrivateKey !== undefined) {
    for (const secretLine of sshPrivateKey.split('\n')) if (secretLine.trim()) core.setSecret(secretLine.trim())
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(sshPrivateKey)) {
      throw new InputError('ssh-private-key', 'expected a private key in OpenSSH or PEM format (-----BEGIN OPENSSH PRIVATE KEY----- …), e.g. ${{ secrets.SSH_PRIVATE_KEY }}.')
    }
  }

  const githubToken = optional('github-token')
  if (githubToken) core.setSecret(githubToken)

  return withCommandOptions({
    ...parsed,
    alias: possibleAlias ? { name: words[0], extraWords: words.slice(1) } : undefined,
    configFile: text('config-file') || 'config/deploy.yml',
    destination,
    version,
    roles: list(text('roles')),
    hosts: list(text('hosts')),
    sshPrivateKey,
    sshKnownHosts: optional('ssh-known-hosts'),
    secrets: read('secrets'),
    githubToken,
    workingDirectory: text('working-directory') || '.',
    skipPush: booleanInput('skip-push', text('skip-push')),
    environment: optional('environment'),
    deployment: text('deployment') === '' ? true : booleanInput('deployment', text('deployment')),
    confirm: booleanInput('confirm', text('confirm')),
    allOrNothing: booleanInput('all-or-nothing', text('all-or-nothing')),
  })
}

/** The command input split as Shellwords.split does, so quoted command lines stay one word. */
function commandWords(text: string): string[] {
  try {
    return shellSplit(text)
  } catch (error) {
    throw new InputError('command', `'${text}' cannot be split into words (${error instanceof Error ? error.message : String(error)}). Fix the quoting, e.g. command: app exec "bin/rails db:migrate".`)
  }
}

/**
 * Kamal's --roles/--hosts/--version/--primary/-y from the command words,
 * folded into the inputs that do the same (a clash with the input is refused);
 * app boot and a new-container app exec default to the latest tag, as Kamal's version_or_latest.
 */
function withCommandOptions(inputs: ActionInputs): ActionInputs {
  const options = inputs.options ?? {}
  const fold = (input: string, fromInput: string[] | string | undefined, fromOption: string | undefined, flag: string) => {
    const given = Array.isArray(fromInput) ? fromInput.join(',') : fromInput
    if (fromOption !== undefined && given && given !== fromOption) throw new InputError(input, `'${given}' and the command's ${flag}=${fromOption} disagree. Give it once: in the command or as the ${input} input.`)
  }
  fold('roles', inputs.roles, options.roles, '--roles')
  fold('hosts', inputs.hosts, options.hosts, '--hosts')
  fold('version', inputs.version, options.version, '--version')
  if (options.version !== undefined && !/^[A-Za-z0-9_.-]+$/.test(options.version)) throw new InputError('command', `--version=${options.version} cannot be a Docker image tag. Use letters, digits, '_', '.' and '-' only.`)
  const key = [inputs.command, inputs.subcommand].filter(Boolean).join(' ')
  const explicitVersion = inputs.version ?? options.version
  const latest = ['latest', inputs.destination].filter(Boolean).join('-')
  const versionOrLatest = key === 'app boot' || (key === 'app exec' && !options.reuse)
  return {
    ...inputs,
    roles: options.roles !== undefined ? list(options.roles) : inputs.roles,
    hosts: options.hosts !== undefined ? list(options.hosts) : inputs.hosts,
    version: explicitVersion ?? (versionOrLatest ? latest : undefined),
    primary: inputs.primary || options.primary === true,
    confirm: inputs.confirm || options.confirmed === true,
  }
}

/** Comma- or newline-separated list. */
function list(value: string): string[] {
  return value
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean)
}

function booleanInput(name: string, value: string): boolean {
  if (value === '') return false
  if (['true', 'True', 'TRUE'].includes(value)) return true
  if (['false', 'False', 'FALSE'].includes(value)) return false
  throw new InputError(name, `'${value}' is not a boolean. Use true or false.`)
}
