import * as core from '@actions/core'
import { InputError } from './errors'

export const COMMANDS = ['deploy', 'redeploy', 'rollback', 'plan'] as const
export type ActionCommand = (typeof COMMANDS)[number]

/** Everything the workflow step passed in `with:`, read and checked in one place. */
export interface ActionInputs {
  command: ActionCommand
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

  const command = text('command') || 'deploy'
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new InputError('command', `'${command}' is not a command of this action. Use one of: ${COMMANDS.join(', ')}.`)
  }

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
