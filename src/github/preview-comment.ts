/**
 * The preview's sticky pull-request comment (found by its marker, created
 * once, then edited) and the pull requests' states for the sweep. API
 * problems are warnings: a preview never fails because GitHub could not be told.
 */
import * as core from '@actions/core'
import { getOctokit, type Octokit } from './octokit'
import { findMarkedComment } from '../preview/comment'
import type { PullState } from '../preview/cap'

export interface RepositoryApi {
  token: string
  owner: string
  repo: string
  /** GITHUB_API_URL */
  apiUrl?: string
}

function octokitFor(api: RepositoryApi): Octokit {
  return getOctokit(api.token, api.apiUrl ? { baseUrl: api.apiUrl } : {})
}

export class StickyComment {
  private id?: number

  private constructor(
    private readonly api: RepositoryApi,
    private readonly octokit: Octokit,
    private readonly pr: number,
    private readonly service: string,
  ) {}

  static for(api: RepositoryApi, pr: number, service: string): StickyComment {
    return new StickyComment(api, octokitFor(api), pr, service)
  }

  /** The comment's id once known (found or created). */
  get commentId(): number | undefined {
    return this.id
  }

  /** Find the marked comment (once), then edit it; create it when there is none. Returns the id, or undefined when GitHub refused. */
  async write(body: string): Promise<number | undefined> {
    const { owner, repo } = this.api
    try {
      if (this.id === undefined) {
        const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, { owner, repo, issue_number: this.pr, per_page: 100 })
        this.id = findMarkedComment(comments, this.service)
      }
      if (this.id !== undefined) {
        await this.octokit.rest.issues.updateComment({ owner, repo, comment_id: this.id, body })
      } else {
        const created = await this.octokit.rest.issues.createComment({ owner, repo, issue_number: this.pr, body })
        this.id = created.data.id
      }
      return this.id
    } catch (error) {
      warn(`write the preview comment on #${this.pr}`, error, 'pull-requests: write')
      return undefined
    }
  }
}

/** Each pull request's state (`unknown` when GitHub cannot say: the sweep keeps that preview). */
export async function pullRequestStates(api: RepositoryApi, numbers: readonly number[]): Promise<Map<number, PullState>> {
  const octokit = octokitFor(api)
  const states = new Map<number, PullState>()
  for (const pr of numbers) {
    try {
      const response = await octokit.rest.pulls.get({ owner: api.owner, repo: api.repo, pull_number: pr })
      states.set(pr, response.data.state === 'closed' ? 'closed' : 'open')
    } catch (error) {
      warn(`read the state of pull request #${pr} (its preview is kept)`, error, 'pull-requests: read')
      states.set(pr, 'unknown')
    }
  }
  return states
}

function warn(what: string, error: unknown, permission: string): void {
  const status = (error as { status?: number }).status
  const hint = status === 403 || status === 404 ? ` Give the job \`permissions: ${permission}\`.` : ''
  core.warning(`Could not ${what}: ${error instanceof Error ? error.message : String(error)}.${hint}`)
}

/** A removed preview's deployments in its environment are marked inactive, so GitHub shows no live URL for it. */
export async function deactivateEnvironment(api: RepositoryApi, environment: string, description: string): Promise<number> {
  const octokit = octokitFor(api)
  try {
    const deployments = await octokit.paginate(octokit.rest.repos.listDeployments, { owner: api.owner, repo: api.repo, environment, per_page: 100 })
    const ids = [...new Set(deployments.map((deployment: { id: number }) => deployment.id))]
    for (const id of ids) await octokit.rest.repos.createDeploymentStatus({ owner: api.owner, repo: api.repo, deployment_id: id, state: 'inactive', description: description.slice(0, 140), environment })
    return ids.length
  } catch (error) {
    warn(`mark the deployments of ${environment} inactive`, error, 'deployments: write')
    return 0
  }
}
