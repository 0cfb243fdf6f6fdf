import * as core from '@actions/core'
import * as path from 'node:path'
import { CancelledError, runDeploy, type BootOutcome, type DeployRequest } from './deploy/deploy'
import { runOperation } from './deploy/operations'
import { HostPool } from './deploy/hosts'
import { Progress } from './deploy/progress'
import { sshOptionsFor } from './deploy/ssh-options'
import { readInputs, type ActionInputs } from './inputs'
import { buildDeployPlan, type PlanCommand } from './plan/deploy-plan'
import { planAsMarkdown, planAsText, planHeadline } from './plan/render'
import { LOCK_STATE, TEMP_PATHS_STATE } from './post'
import { buildCloneDirectory } from './deploy/build'
import { transferWorkDirectory } from './transfer/local-registry'
import { prepareRun, type PreparedRun } from './prepare'
import { reportError } from './report-error'
import { deploySummaryMarkdown } from './report/summary'
import { appUrl } from './report/app-url'
import { bytesSentOutput, bytesSentSummaryLine, type BytesSent } from './transfer/bytes-sent'
import { GitHubDeployment, runUrl } from './github/deployments'

/** The action's main step. */
export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd()
  let projectDir = workspace
  try {
    const inputs = readInputs()
    projectDir = path.resolve(workspace, inputs.workingDirectory)
    const prepared = prepareRun(inputs, { projectDir, env })
    const { config, targets } = prepared

    core.setOutput('version', config.version)
    core.setOutput('image', config.absoluteImage)
    core.setOutput('hosts', targets.hosts.join(','))
    core.setOutput('roles', targets.roles.map((role) => role.name).join(','))
    const url = appUrl(config)
    if (url) core.setOutput('url', url)

    if (inputs.command === 'plan') await showPlan(inputs, prepared)
    else await deploy(inputs, prepared, { projectDir, workspace, env })
  } catch (error) {
    reportError(error, { workspace, projectDir })
    core.setOutput('result', 'failed')
  }
}

async function showPlan(inputs: ActionInputs, prepared: PreparedRun): Promise<void> {
  const plan = buildDeployPlan(prepared.config, prepared.targets, {
    command: 'deploy',
    skipPush: inputs.skipPush,
    performer: prepared.performer,
    registryUser: prepared.registryUserLabel,
  })
  core.info(planHeadline(plan))
  for (const block of planAsText(plan)) {
    core.startGroup(block.title)
    for (const text of block.lines) core.info(text)
    core.endGroup()
  }
  await core.summary.addRaw(planAsMarkdown(plan)).write()
  core.setOutput('result', 'planned')
}

interface Where {
  projectDir: string
  workspace: string
  env: NodeJS.ProcessEnv
}

const DEPLOY_COMMANDS = ['deploy', 'redeploy', 'rollback', 'setup'] as const

/** Everything toward the hosts: a deploy (with summary, deployment record, annotations) or a maintenance command. */
async function deploy(inputs: ActionInputs, prepared: PreparedRun, where: Where): Promise<void> {
  const { config, targets, secrets } = prepared
  const command = inputs.command as DeployRequest['command']
  const isDeploy = (DEPLOY_COMMANDS as readonly string[]).includes(command)
  const progress = new Progress()
  const sshOptions = sshOptionsFor(config, inputs, secrets, where.env)
  const pool = new HostPool(sshOptions)
  const boots: BootOutcome[] = []
  const bytesSent: BytesSent = {}
  const url = appUrl(config)
  // redeploy ships a version that was already built and pushed: it never builds.
  const skipPush = inputs.skipPush || command === 'redeploy'

  let cancelled = false
  const onSignal = (signal: string) => {
    if (!cancelled) core.warning(`${signal} received (the job is being cancelled): finishing the host work under way, starting no more, then releasing the deploy lock.`)
    cancelled = true
  }
  const onInterrupt = () => onSignal('SIGINT')
  const onTerminate = () => onSignal('SIGTERM')
  process.on('SIGINT', onInterrupt)
  process.on('SIGTERM', onTerminate)

  const request: DeployRequest = {
    command,
    subcommand: inputs.subcommand,
    config,
    targets,
    secrets,
    pool,
    progress,
    projectDir: where.projectDir,
    performer: prepared.performer,
    lockedBy: prepared.lockedBy,
    skipPush,
    registryUser: prepared.registryUser,
    registryPassword: prepared.registryPassword,
    rolesFilter: inputs.roles.length > 0 ? targets.roles.map((role) => role.name) : undefined,
    env: where.env,
    remoteBuilderSsh: { privateKeys: sshOptions.privateKeys ?? [], knownHosts: inputs.sshKnownHosts },
    boots,
    bytesSent,
    cancelled: () => cancelled,
    onLock: (lock) => core.saveState(LOCK_STATE, lock ? JSON.stringify(lock) : ''),
  }

  // What the post step removes: the build clone and the registry-free transfer files.
  core.saveState(TEMP_PATHS_STATE, JSON.stringify([buildCloneDirectory(config, where.projectDir), transferWorkDirectory()]))
  const deployment = isDeploy ? await startDeployment(inputs, prepared, where.env, url) : undefined
  let result: DeployResult = 'success'
  let failure: unknown
  let message: string | undefined
  try {
    if (isDeploy) {
      const outcome = await runDeploy(request)
      if (outcome.unavailableVersion) result = 'skipped'
    } else {
      message = (await runOperation(request, inputs.argument)).message
      core.info(message)
    }
    progress.say(`  Finished all in ${progress.elapsedSeconds().toFixed(1)} seconds`)
  } catch (error) {
    failure = error
    result = error instanceof CancelledError || cancelled ? 'cancelled' : 'failed'
  } finally {
    pool.closeAll()
    process.off('SIGINT', onInterrupt)
    process.off('SIGTERM', onTerminate)
  }

  const redact = redactor(secrets.values())
  await deployment?.setStatus(result === 'success' || result === 'skipped' ? 'success' : result === 'cancelled' ? 'error' : 'failure', `${command} ${config.version}: ${result}`)
  await core.summary
    .addRaw(
      deploySummaryMarkdown({
        command: [command, inputs.subcommand, inputs.argument].filter(Boolean).join(' '),
        service: config.service,
        destination: config.destination,
        version: config.version,
        image: config.absoluteImage,
        result,
        seconds: progress.elapsedSeconds(),
        boots,
        phases: progress.records,
        error: failure instanceof Error ? failure.message : failure ? String(failure) : undefined,
        note: message,
        transferLine: bytesSentSummaryLine(bytesSent),
        planMarkdown: isDeploy
          ? planAsMarkdown(buildDeployPlan(config, targets, { command: command === 'setup' ? 'deploy' : (command as PlanCommand), skipPush, performer: prepared.performer, registryUser: prepared.registryUserLabel }))
          : undefined,
        redact,
      }),
    )
    .write()
  core.setOutput('result', result)
  core.setOutput('duration', progress.elapsedSeconds().toFixed(1))
  if (Object.keys(bytesSent).length > 0) core.setOutput('bytes-sent', bytesSentOutput(bytesSent))
  if (result === 'cancelled') {
    core.error(new CancelledError().message, { title: 'Deploy cancelled' })
    process.exitCode = 1
  } else if (failure) {
    annotateFailure(failure, boots, config.primaryRoleName, redact, where)
  }
}

type DeployResult = 'success' | 'failed' | 'cancelled' | 'skipped'

/** GitHub shows about ten error annotations per step: the primary role's failures first, the rest folded into one. */
const MAX_ERROR_ANNOTATIONS = 8

function annotateFailure(failure: unknown, boots: BootOutcome[], primaryRole: string, redact: (text: string) => string, where: { projectDir: string; workspace: string }): void {
  const failed = boots.filter((boot) => !boot.ok).sort((a, b) => Number(b.role === primaryRole) - Number(a.role === primaryRole))
  if (failed.length === 0) {
    reportError(failure, { workspace: where.workspace, projectDir: where.projectDir })
    return
  }
  for (const boot of failed.slice(0, MAX_ERROR_ANNOTATIONS)) core.error(redact(boot.error ?? 'failed'), { title: `Deploy failed on ${boot.host} (${boot.role})` })
  const rest = failed.slice(MAX_ERROR_ANNOTATIONS)
  if (rest.length > 0) core.error(`…and ${rest.length} more: ${rest.map((boot) => `${boot.host} (${boot.role})`).join(', ')}. See the job summary.`, { title: 'More failed hosts' })
  process.exitCode = 1
}

function redactor(values: string[]): (text: string) => string {
  const secrets = values.filter((value) => value.length >= 4).sort((a, b) => b.length - a.length)
  return (text) => secrets.reduce((out, value) => out.split(value).join('[REDACTED]'), text)
}

async function startDeployment(inputs: ActionInputs, prepared: PreparedRun, env: NodeJS.ProcessEnv, url: string | undefined): Promise<GitHubDeployment | undefined> {
  if (!inputs.deployment || !inputs.githubToken || !env.GITHUB_REPOSITORY) return undefined
  const [owner, repo] = env.GITHUB_REPOSITORY.split('/')
  const environment = inputs.environment ?? prepared.config.destination ?? 'production'
  const deployment = await GitHubDeployment.create({
    token: inputs.githubToken,
    environment,
    ref: env.GITHUB_SHA ?? prepared.config.version,
    owner,
    repo,
    version: prepared.config.version,
    description: `${inputs.command} ${prepared.config.service} ${prepared.config.version}`,
    environmentUrl: url,
    logUrl: runUrl(env),
    apiUrl: env.GITHUB_API_URL,
  })
  if (!deployment) return undefined
  core.setOutput('deployment-id', String(deployment.id))
  await deployment.setStatus('in_progress', `${inputs.command} ${prepared.config.version} started`)
  return deployment
}
