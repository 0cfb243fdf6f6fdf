import * as core from '@actions/core'
import type { AliasTable } from './config/aliases'
import { ConfigError, InputError } from './errors'
import { shellSplit } from './secrets/shell-split'

export const COMMANDS = ['deploy', 'redeploy', 'rollback', 'setup', 'plan', 'prune', 'lock', 'app', 'accessory'] as const
export type ActionCommand = (typeof COMMANDS)[number]

/** The second word of the commands that have one, as in the kamal CLI. */
const SUBCOMMANDS: Partial<Record<ActionCommand, readonly string[]>> = {
  lock: ['release', 'status'],
  app: ['maintenance', 'live'],
  accessory: ['boot', 'reboot', 'remove'],
}

const COMMAND_LIST = 'deploy, redeploy, rollback, setup, plan, prune, lock release|status, app maintenance|live, accessory boot|reboot|remove <name|all>'

/** Everything the workflow step passed in `with:`, read and checked in one place. */
export interface ActionInputs {
  /** a placeholder (`plan`) while `alias` is set: resolveAlias gives the real one */
  command: ActionCommand
  /** `release` in `lock release`, `boot` in `accessory boot redis` */
  subcommand?: string
  /** `redis` (or `all`) in `accessory boot redis` */
  argument?: string
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
}

const ALIAS_NAME = /^[a-z0-9_-]+$/

function isActionCommand(word: string): word is ActionCommand {
  return (COMMANDS as readonly string[]).includes(word)
}

/**
 * The action command in some words (`accessory boot redis`); an InputError on
 * the `command` input otherwise. `origin` says where the words came from when
 * they are not the input itself (an alias), and is added to each message.
 */
export function parseCommand(words: readonly string[], origin = ''): ParsedCommand {
  const shown = `'${words.join(' ')}'${origin}`
  const command = words[0]
  if (!isActionCommand(command)) {
    throw new InputError('command', `${shown} is not a command of this action. Use one of: ${COMMAND_LIST}.`)
  }
  const subcommands = SUBCOMMANDS[command]
  const [subcommand, argument] = words.slice(1)
  if (subcommands && !subcommands.includes(subcommand)) {
    throw new InputError('command', `${shown} needs one of ${subcommands.join(', ')} after ${command}, e.g. command: ${command} ${subcommands[0]}${command === 'accessory' ? ' all' : ''}.`)
  }
  if (command === 'accessory' && !argument) {
    throw new InputError('command', `${shown} needs the accessory's name or all, e.g. command: accessory ${subcommand} all.`)
  }
  const expected = command === 'accessory' ? 3 : subcommands ? 2 : 1
  if (words.length > expected) throw new InputError('command', `${shown} has extra words. Use one of: ${COMMAND_LIST}.`)
  return { command, subcommand, argument }
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
  const option = words.find((word) => word.startsWith('-'))
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
  return { ...inputs, ...parsed, alias: undefined }
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

  const words = (text('command') || 'deploy').split(/\s+/)
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
  requireVersionForRollback(parsed.command, version)

  const sshPrivateKey = read('ssh-private-key') || undefined
  if (sshPrivateKey !== undefined) {
    for (const secretLine of sshPrivateKey.split('\n')) if (secretLine.trim()) core.setSecret(secretLine.trim())
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(sshPrivateKey)) {
      throw new InputError('ssh-private-key', 'expected a private key in OpenSSH or PEM format (-----BEGIN OPENSSH PRIVATE KEY----- …), e.g. ${{ secrets.SSH_PRIVATE_KEY }}.')
    }
  }

  const githubToken = optional('github-token')
  if (githubToken) core.setSecret(githubToken)

  return {
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
