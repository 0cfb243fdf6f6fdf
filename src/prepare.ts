import * as core from '@actions/core'
import { execFileSync } from 'node:child_process'
import * as os from 'node:os'
import { ConfigError, InputError } from './errors'
import { loadRawConfig, type RawConfig } from './config/load'
import { KamalConfig } from './config/model'
import { checkCrossFieldRules, ensureAccessoryPlacement, ensureDestinationIfRequired } from './config/rules'
import { firstIssue, type ConfigIssue } from './config/validate'
import { configAliases } from './config/aliases'
import { outputSettings } from './config/output'
import { resolveAlias, type ActionInputs } from './inputs'
import { selectTargets, type Targets } from './plan/targets'
import { secretPlaceholder } from './plan/steps'
import { registryConfig, type Credential } from './config/registry'
import { loadSecrets, parseSecretsInput, type Secrets } from './secrets/load'

/** Everything a run needs, read and checked before anything goes toward a host. */
export interface PreparedRun {
  config: KamalConfig
  secrets: Secrets
  targets: Targets
  /** a display form of the registry user: the literal name, or the secret's name */
  registryUserLabel: string
  /** the registry user as it goes into a `docker login` command: the literal, or the secret's placeholder */
  registryUserInCommand: string
  registryUser: string
  registryPassword?: string
  performer: string
  lockedBy: string
}

export interface PrepareContext {
  projectDir: string
  env: NodeJS.ProcessEnv
}

export function prepareRun(inputs: ActionInputs, context: PrepareContext): PreparedRun {
  const { projectDir, env } = context
  const source = loadRawConfig({ projectDir, configFile: inputs.configFile, destination: inputs.destination, env })
  reportIssue(source, firstIssue(source, 'structure'))

  const version = resolveVersion(inputs, projectDir, env)
  const config = new KamalConfig(source, { destination: inputs.destination, version, projectDir })
  Object.assign(inputs, resolveAlias(inputs, configAliases(config)))
  outputSettings(config) // refuses output.otel, and output.file without a path, before anything runs
  ensureAccessoryPlacement(config)
  ensureDestinationIfRequired(config)
  reportIssue(source, firstIssue(source, 'required'))
  checkCrossFieldRules(config, projectDir)

  const secrets = loadSecrets({
    projectDir,
    secretsPath: config.secretsPath,
    destination: inputs.destination,
    provided: parseSecretsInput(inputs.secrets),
    env,
  })
  for (const reference of config.secretReferences()) secrets.get(reference.key, config.locate(reference.path))

  const user = gitUser(projectDir)
  const { username, password } = registryConfig(config)
  const registryUserLabel = username && 'secret' in username ? `$${username.secret}` : username?.literal ?? ''
  const credential = (value: Credential) => (value === undefined ? undefined : 'secret' in value ? secrets.get(value.secret) : value.literal)
  if (password && 'literal' in password) core.setSecret(password.literal)

  return {
    config,
    secrets,
    targets: selectTargets(config, { roles: inputs.roles, hosts: inputs.primary && config.primaryHost ? [config.primaryHost] : inputs.hosts }),
    registryUserLabel,
    registryUserInCommand: username && 'secret' in username ? secretPlaceholder(username.secret) : username?.literal ?? '',
    registryUser: credential(username) ?? '',
    registryPassword: credential(password),
    performer: user.email || os.userInfo().username,
    lockedBy: user.name || 'Unknown',
  }
}

function reportIssue(source: RawConfig, issue: ConfigIssue | null): void {
  if (!issue) return
  const prefix = issue.path.length > 0 ? `${issue.path.join('/')}: ` : ''
  throw new ConfigError(`${prefix}${issue.message}. ${issue.hint}`, source.locate(issue.focus ?? issue.path, { key: issue.focusKey }))
}

/** Kamal's order: an explicit version, then VERSION from the environment, then the commit SHA. */
export function resolveVersion(inputs: ActionInputs, projectDir: string, env: NodeJS.ProcessEnv): string {
  if (inputs.version) return inputs.version
  if (env.VERSION) return env.VERSION
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: projectDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    if (env.GITHUB_SHA) return env.GITHUB_SHA
    throw new InputError('version', `Can't use commit hash as version, no git repository found in ${projectDir}. Check out the repository first (actions/checkout) or set the 'version' input.`)
  }
}

/**
 * user.name and user.email from one `git config` (each is a process the run waits for): the last
 * value of each wins, as `git config <key>` answers.
 */
export function gitUser(projectDir: string): { name?: string; email?: string } {
  let output: string
  try {
    output = execFileSync('git', ['config', '--get-regexp', '^user\\.(name|email)$'], { cwd: projectDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  } catch {
    return {}
  }
  const user: { name?: string; email?: string } = {}
  for (const line of output.split('\n')) {
    const match = /^user\.(name|email) (.*)$/.exec(line)
    if (match) user[match[1] as 'name' | 'email'] = match[2].trim()
  }
  return user
}
