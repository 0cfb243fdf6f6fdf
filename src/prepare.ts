import * as core from '@actions/core'
import { execFileSync } from 'node:child_process'
import * as os from 'node:os'
import { ConfigError, InputError } from './errors'
import { loadRawConfig, type RawConfig } from './config/load'
import { KamalConfig } from './config/model'
import { checkCrossFieldRules, ensureAccessoryPlacement, ensureDestinationIfRequired } from './config/rules'
import { checkRequiredKeys, validateConfig, type ConfigIssue } from './config/validate'
import { configAliases } from './config/aliases'
import { outputSettings } from './config/output'
import { resolveAlias, type ActionInputs } from './inputs'
import { selectTargets, type Targets } from './plan/targets'
import { secretPlaceholder } from './plan/steps'
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
  reportIssue(source, validateConfig(source.raw))

  const version = resolveVersion(inputs, projectDir, env)
  const config = new KamalConfig(source, { destination: inputs.destination, version, projectDir })
  Object.assign(inputs, resolveAlias(inputs, configAliases(config)))
  outputSettings(config) // refuses output.otel, and output.file without a path, before anything runs
  ensureAccessoryPlacement(config)
  ensureDestinationIfRequired(config)
  reportIssue(source, checkRequiredKeys(source.raw))
  checkCrossFieldRules(config, projectDir)

  const secrets = loadSecrets({
    projectDir,
    secretsPath: config.secretsPath,
    destination: inputs.destination,
    provided: parseSecretsInput(inputs.secrets),
    env,
  })
  for (const reference of config.secretReferences()) secrets.get(reference.key, config.locate(reference.path))

  const registry = (source.raw.registry ?? {}) as Record<string, unknown>
  const username = registry.username
  const registryUserLabel = Array.isArray(username) ? `$${String(username[0])}` : String(username ?? '')
  const credential = (value: unknown) => (Array.isArray(value) ? secrets.get(String(value[0])) : value === undefined || value === null ? undefined : String(value))
  if (registry.password !== undefined && !Array.isArray(registry.password)) core.setSecret(String(registry.password))

  return {
    config,
    secrets,
    targets: selectTargets(config, { roles: inputs.roles, hosts: inputs.hosts }),
    registryUserLabel,
    registryUserInCommand: Array.isArray(username) ? secretPlaceholder(String(username[0])) : String(username ?? ''),
    registryUser: credential(username) ?? '',
    registryPassword: credential(registry.password),
    performer: gitConfig(projectDir, 'user.email') || os.userInfo().username,
    lockedBy: gitConfig(projectDir, 'user.name') || 'Unknown',
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

function gitConfig(projectDir: string, key: string): string {
  try {
    return execFileSync('git', ['config', key], { cwd: projectDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}
