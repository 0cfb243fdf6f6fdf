import * as core from '@actions/core'
import { getOctokit, type Octokit } from './octokit'

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive'

export interface DeploymentTarget {
  token: string
  environment: string
  ref: string
  owner: string
  repo: string
  version: string
  description: string
  environmentUrl?: string
  logUrl?: string
  /** GITHUB_API_URL: github.com, an Enterprise server, or a local stand-in in tests */
  apiUrl?: string
}

/**
 * A GitHub deployment for the environment, with its statuses. API problems are
 * warnings: a deploy to the servers never fails because GitHub could not be told.
 */
export class GitHubDeployment {
  private constructor(
    private readonly target: DeploymentTarget,
    private readonly octokit: Octokit,
    readonly id: number,
  ) {}

  static async create(target: DeploymentTarget): Promise<GitHubDeployment | undefined> {
    const octokit = getOctokit(target.token, target.apiUrl ? { baseUrl: target.apiUrl } : {})
    try {
      const response = await octokit.rest.repos.createDeployment({
        owner: target.owner,
        repo: target.repo,
        ref: target.ref,
        environment: target.environment,
        description: target.description.slice(0, 140),
        auto_merge: false,
        required_contexts: [],
        production_environment: target.environment === 'production',
        payload: { version: target.version },
      })
      if (!('id' in response.data)) {
        core.warning(`GitHub did not create a deployment for ${target.environment}: ${JSON.stringify(response.data).slice(0, 200)}`)
        return undefined
      }
      return new GitHubDeployment(target, octokit, response.data.id)
    } catch (error) {
      warn('create a GitHub deployment', error)
      return undefined
    }
  }

  async setStatus(state: DeploymentState, description: string): Promise<void> {
    try {
      await this.octokit.rest.repos.createDeploymentStatus({
        owner: this.target.owner,
        repo: this.target.repo,
        deployment_id: this.id,
        state,
        description: description.slice(0, 140),
        environment: this.target.environment,
        ...(this.target.environmentUrl ? { environment_url: this.target.environmentUrl } : {}),
        ...(this.target.logUrl ? { log_url: this.target.logUrl } : {}),
        auto_inactive: state === 'success',
      })
    } catch (error) {
      warn(`set the GitHub deployment status to ${state}`, error)
    }
  }
}

function warn(what: string, error: unknown): void {
  const status = (error as { status?: number }).status
  const hint = status === 403 || status === 404 ? ' Give the job `permissions: deployments: write`, or set the `deployment` input to false.' : ''
  core.warning(`Could not ${what}: ${error instanceof Error ? error.message : String(error)}.${hint}`)
}

/** The run's page, for `log_url`. */
export function runUrl(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.GITHUB_REPOSITORY || !env.GITHUB_RUN_ID) return undefined
  const attempt = env.GITHUB_RUN_ATTEMPT ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : ''
  return `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}${attempt}`
}
