/**
 * What the run page is made from: the plan, the record of what ran, the boot
 * outcomes, the phase times, and the few facts of the config and of the
 * GitHub run a reader asks for first. Everything the page says is derived
 * from these; nothing is read from the raw YAML.
 */
import type { KamalConfig, Role } from '../config/model'
import type { PhaseRecord } from '../deploy/progress'
import type { BootOutcome } from '../deploy/request'
import type { RecordEntry } from '../execute/record'
import type { Plan } from '../plan/steps'
import { appUrls } from './app-url'

export type RunResult = 'success' | 'failed' | 'cancelled' | 'skipped'

/** A role as the page shows it: config order, its selected hosts, how its health is checked. */
export interface SummaryRole {
  name: string
  primary: boolean
  hosts: string[]
  /** `GET /up` for a proxied role; the Docker health check otherwise */
  health: string
}

/** The GitHub run, from the runner's environment (never from build args, which stay redacted). */
export interface GitHubRun {
  serverUrl: string
  repository?: string
  sha?: string
  actor?: string
  /** the GitHub environment the deployment record went to, when there is one */
  environment?: string
}

export interface RunFacts {
  /** `deploy`, `lock release`, … */
  command: string
  service: string
  destination?: string
  version: string
  image: string
  result: RunResult
  plan: Plan
  record: readonly RecordEntry[]
  boots: readonly BootOutcome[]
  phases: readonly PhaseRecord[]
  roles: readonly SummaryRole[]
  /** the app's URLs, one per proxy host */
  urls: readonly string[]
  github: GitHubRun
  /** the first failure, when the run failed */
  failure?: unknown
  /** what a maintenance command answers (lock status, …) */
  note?: string
  /** one line on the image transfer of a registry-free deploy */
  transferLine?: string
  /** text known to be secret, removed from everything written */
  redact: (text: string) => string
}

export function summaryRoles(config: KamalConfig, roles: readonly Role[]): SummaryRole[] {
  return roles.map((role) => ({
    name: role.name,
    primary: role.name === config.primaryRoleName,
    hosts: [...role.hosts],
    health: role.proxy ? `GET ${String(role.proxy.healthcheck.path ?? '/up')}` : `Docker health check, else running after ${config.readinessDelay}s`,
  }))
}

export function gitHubRunFrom(env: NodeJS.ProcessEnv, environment?: string): GitHubRun {
  return {
    serverUrl: (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, ''),
    repository: env.GITHUB_REPOSITORY || undefined,
    sha: env.GITHUB_SHA || undefined,
    actor: env.GITHUB_ACTOR || undefined,
    environment,
  }
}

/** The facts of a run toward the hosts, from the typed config and the targets it acted on. */
export function runFactsFrom(
  config: KamalConfig,
  roles: readonly Role[],
  run: Omit<RunFacts, 'service' | 'destination' | 'version' | 'image' | 'roles' | 'urls' | 'github'> & { env: NodeJS.ProcessEnv; environment?: string },
): RunFacts {
  const { env, environment, ...rest } = run
  return {
    ...rest,
    service: config.service,
    destination: config.destination,
    version: config.version,
    image: config.absoluteImage,
    roles: summaryRoles(config, roles),
    urls: appUrls(roles),
    github: gitHubRunFrom(env, environment),
  }
}
