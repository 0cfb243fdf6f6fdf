/**
 * `command: preview | preview remove | preview sweep`: the edges around the
 * ordinary deploy and `app remove` of a preview's derived config (./derive).
 * The plan and its execution are the action's own (the `deploy` callback of
 * src/main.ts); this file adds the look at the hosts (which previews exist),
 * the cap, the sticky PR comment and the sweep's PR states.
 */
import * as core from '@actions/core'
import * as fs from 'node:fs'
import { HostPool } from '../deploy/hosts'
import { sshOptionsFor } from '../deploy/ssh-options'
import { InputError } from '../errors'
import { runUrl } from '../github/deployments'
import { deactivateEnvironment, pullRequestStates, StickyComment, type RepositoryApi } from '../github/preview-comment'
import type { ActionInputs } from '../inputs'
import { selectTargets } from '../plan/targets'
import type { PreparedRun } from '../prepare'
import { appUrl } from '../report/app-url'
import { allPreviews, capRefusal, sweepTargets } from './cap'
import { previewCommentBody, type PreviewStatus } from './comment'
import { previewConfig, previewRoleName } from './derive'
import { previewEnvironment, previewNumbers } from './naming'
import type { PreviewRequest } from './request'

export type RunResult = 'success' | 'failed' | 'cancelled' | 'skipped'
/** main.ts's deploy: the plan of the inputs' command for the prepared run, executed and reported. */
export type Runner = (inputs: ActionInputs, prepared: PreparedRun) => Promise<RunResult>

export interface PreviewContext {
  inputs: ActionInputs
  prepared: PreparedRun
  env: NodeJS.ProcessEnv
  run: Runner
}

/** The `service` label of every container on a host, one a line. */
export const LIST_SERVICES = `docker ps --all --filter label=service --format '{{.Label "service"}}'`

export async function runPreview(request: PreviewRequest, context: PreviewContext): Promise<void> {
  if (context.inputs.roles.length > 0) throw new InputError('roles', `a preview runs one role, chosen by the preview-role input, not roles (${context.inputs.roles.join(',')}). Drop roles, and set preview-role if the role is not web.`)
  if (request.action === 'sweep') return sweep(request, context)
  const pr = request.pr
  if (pr === undefined) throw new InputError('pull-request', 'a preview needs its pull request number.')
  if (request.action === 'remove') {
    const result = await removePreview(pr, request, context)
    if (result !== 'success') process.exitCode = process.exitCode || 1
    return
  }
  await deployPreview(pr, request, context)
}

function repositoryApi(context: PreviewContext): RepositoryApi | undefined {
  const { inputs, env } = context
  if (!inputs.githubToken || !env.GITHUB_REPOSITORY) return undefined
  const [owner, repo] = env.GITHUB_REPOSITORY.split('/')
  return { token: inputs.githubToken, owner, repo, apiUrl: env.GITHUB_API_URL }
}

function preparedFor(context: PreviewContext, pr: number, request: PreviewRequest): PreparedRun {
  const config = previewConfig(context.prepared.config, { pr, domain: request.domain, role: request.role })
  return { ...context.prepared, config, targets: selectTargets(config, { roles: [], hosts: context.inputs.hosts }) }
}

/** The head commit of the pull request (the event's), else the checked-out one. */
function commitOf(env: NodeJS.ProcessEnv, fallback: string): string {
  try {
    const event = env.GITHUB_EVENT_PATH && fs.existsSync(env.GITHUB_EVENT_PATH) ? (JSON.parse(fs.readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as { pull_request?: { head?: { sha?: unknown } } }) : undefined
    const sha = event?.pull_request?.head?.sha
    if (typeof sha === 'string' && sha !== '') return sha
  } catch {
    // no event file: the checkout's commit
  }
  return env.GITHUB_SHA ?? fallback
}

function commitUrl(env: NodeJS.ProcessEnv, sha: string): string | undefined {
  if (!env.GITHUB_REPOSITORY || !/^[0-9a-f]{7,40}$/.test(sha)) return undefined
  return `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}/commit/${sha}`
}

/** The previews (PR numbers) on each of the hosts, read over SSH. */
export async function previewsOnHosts(context: PreviewContext, hosts: string[]): Promise<Map<string, number[]>> {
  const { inputs, prepared, env } = context
  const pool = new HostPool(sshOptionsFor(prepared.config, inputs, prepared.secrets, env))
  try {
    await pool.connect(hosts)
    const found = new Map<string, number[]>()
    await Promise.all(
      hosts.map(async (host) => {
        const result = await pool.get(host).exec(LIST_SERVICES)
        if (result.code !== 0) throw new Error(`Listing the previews on ${host} failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-3).join(' ')}`)
        found.set(host, previewNumbers(prepared.config.service, result.stdout.split('\n')))
      }),
    )
    return found
  } finally {
    pool.closeAll()
  }
}

async function deployPreview(pr: number, request: PreviewRequest, context: PreviewContext): Promise<void> {
  const { inputs, env } = context
  const started = Date.now()
  const prepared = preparedFor(context, pr, request)
  const { config } = prepared
  const url = appUrl(config)
  const commit = commitOf(env, config.version)
  const api = repositoryApi(context)
  const comment = api ? StickyComment.for(api, pr, context.prepared.config.service) : undefined
  const say = (status: PreviewStatus, detail?: string) =>
    comment?.write(
      previewCommentBody({ service: context.prepared.config.service, pr, status, url, commit, commitUrl: commitUrl(env, commit), runUrl: runUrl(env), seconds: status === 'deploying' ? undefined : (Date.now() - started) / 1000, detail, at: new Date() }),
    )
  if (url) core.setOutput('url', url)
  core.setOutput('version', config.version)
  core.setOutput('image', config.absoluteImage)
  core.setOutput('hosts', prepared.targets.hosts.join(','))
  core.setOutput('roles', prepared.targets.roles.map((role) => role.name).join(','))

  const found = await previewsOnHosts(context, prepared.targets.appHosts)
  const refusal = capRefusal(found, pr, request.limit)
  if (refusal) {
    await say('refused', refusal)
    throw new InputError('preview-limit', refusal)
  }
  core.info(`Preview of #${pr}: service ${config.service} on ${prepared.targets.appHosts.join(', ')} at ${url ?? '(no proxy host)'}; ${allPreviews(found).length} preview(s) on these hosts before this one.`)
  await say('deploying')
  const result = await context.run({ ...inputs, command: 'deploy', subcommand: undefined, argument: undefined, roles: [], environment: previewEnvironment(pr) }, prepared)
  const id = await say(result === 'success' || result === 'skipped' ? 'success' : result === 'cancelled' ? 'cancelled' : 'failed')
  if (id !== undefined) core.setOutput('comment-id', String(id))
}

async function removePreview(pr: number, request: PreviewRequest, context: PreviewContext): Promise<RunResult> {
  const started = Date.now()
  const prepared = preparedFor(context, pr, request)
  const url = request.domain ? appUrl(prepared.config) : undefined
  core.info(`Removing the preview of #${pr}: service ${prepared.config.service} on ${prepared.targets.appHosts.join(', ')}`)
  // `remove preview`: the builder in ./remove-plan (src/plan/commands/dispatch.ts names it).
  const result = await context.run({ ...context.inputs, command: 'remove', subcommand: 'preview', argument: undefined, roles: [], deployment: false }, prepared)
  const api = repositoryApi(context)
  if (api && result === 'success' && context.inputs.deployment) await deactivateEnvironment(api, previewEnvironment(pr), `preview of #${pr} removed`)
  if (api) {
    // The sweep runs on a schedule: its event and checkout say nothing about the PR's commit.
    const commit = request.action === 'remove' ? commitOf(context.env, prepared.config.version) : undefined
    const id = await StickyComment.for(api, pr, context.prepared.config.service).write(
      previewCommentBody({
        service: context.prepared.config.service,
        pr,
        status: result === 'success' ? 'removed' : 'failed',
        url,
        commit,
        commitUrl: commit ? commitUrl(context.env, commit) : undefined,
        runUrl: runUrl(context.env),
        seconds: (Date.now() - started) / 1000,
        detail: result === 'success' ? undefined : `Removing the preview ended: ${result}. See the run.`,
        at: new Date(),
      }),
    )
    if (id !== undefined) core.setOutput('comment-id', String(id))
  }
  return result
}

/** `preview sweep`: the previews on the hosts of the previewed role whose pull request is closed are removed. */
async function sweep(request: PreviewRequest, context: PreviewContext): Promise<void> {
  const { config } = context.prepared
  const role = config.roles.find((item) => item.name === previewRoleName(config, request.role))
  const hosts = selectTargets(config, { roles: role ? [role.name] : [], hosts: context.inputs.hosts }).appHosts
  const previews = allPreviews(await previewsOnHosts(context, hosts))
  if (previews.length === 0) {
    core.info(`No previews of ${config.service} on ${hosts.join(', ')}`)
    core.setOutput('result', 'success')
    return
  }
  const api = repositoryApi(context)
  if (!api) throw new InputError('github-token', 'preview sweep asks GitHub which pull requests are closed, and has no token or GITHUB_REPOSITORY. Leave github-token at its default (github.token) and give the job permissions: pull-requests: read.')
  const states = await pullRequestStates(api, previews)
  const closed = sweepTargets(previews, states)
  core.info(`Previews of ${config.service}: ${previews.map((pr) => `#${pr} (${states.get(pr)})`).join(', ')}; removing ${closed.length > 0 ? closed.map((pr) => `#${pr}`).join(', ') : 'none'}`)
  const failed: number[] = []
  for (const pr of closed) if ((await removePreview(pr, request, context)) !== 'success') failed.push(pr)
  core.setOutput('removed', closed.filter((pr) => !failed.includes(pr)).join(','))
  if (failed.length > 0) {
    core.error(`Could not remove the previews of ${failed.map((pr) => `#${pr}`).join(', ')}. See their runs above.`, { title: 'Preview sweep' })
    process.exitCode = 1
  }
  core.setOutput('result', failed.length > 0 ? 'failed' : 'success')
}
