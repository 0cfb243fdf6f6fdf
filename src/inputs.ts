import * as core from '@actions/core'
import { InputError } from './errors'

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
  command: ActionCommand
  /** `release` in `lock release`, `boot` in `accessory boot redis` */
  subcommand?: string
  /** `redis` (or `all`) in `accessory boot redis` */
  argument?: string
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

type InputReader = (name: string) => string

const fromActions: InputReader = (name) => core.getInput(name)

export function readInputs(read: InputReader = fromActions): ActionInputs {
  const text = (name: string) => read(name).trim()
  const optional = (name: string) => text(name) || undefined

  const words = (text('command') || 'deploy').split(/\s+/)
  const command = words[0]
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new InputError('command', `'${words.join(' ')}' is not a command of this action. Use one of: ${COMMAND_LIST}.`)
  }
  const subcommands = SUBCOMMANDS[command as ActionCommand]
  const [subcommand, argument] = words.slice(1)
  if (subcommands && !subcommands.includes(subcommand)) {
    throw new InputError('command', `'${words.join(' ')}' needs one of ${subcommands.join(', ')} after ${command}, e.g. command: ${command} ${subcommands[0]}${command === 'accessory' ? ' all' : ''}.`)
  }
  if (command === 'accessory' && !argument) {
    throw new InputError('command', `'${words.join(' ')}' needs the accessory's name or all, e.g. command: accessory ${subcommand} all.`)
  }
  const expected = command === 'accessory' ? 3 : subcommands ? 2 : 1
  if (words.length > expected) throw new InputError('command', `'${words.join(' ')}' has extra words. Use one of: ${COMMAND_LIST}.`)

  const destination = optional('destination')
  if (destination !== undefined && !/^[A-Za-z0-9_.-]+$/.test(destination)) {
    throw new InputError('destination', `'${destination}' is not a destination name. Use the <dest> part of config/deploy.<dest>.yml, e.g. staging.`)
  }

  const version = optional('version')
  if (version !== undefined && !/^[A-Za-z0-9_.-]+$/.test(version)) {
    throw new InputError('version', `'${version}' cannot be a Docker image tag. Use letters, digits, '_', '.' and '-' only (the commit SHA is the default).`)
  }
  if (command === 'rollback' && version === undefined) {
    throw new InputError('version', "rollback needs the version to return to, e.g. version: ${{ inputs.version }} (a tag or SHA you deployed before).")
  }

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
    command: command as ActionCommand,
    subcommand,
    argument,
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
