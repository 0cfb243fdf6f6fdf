import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { buildCloneDirectory } from './deploy/build'
import { HostPool } from './deploy/hosts'
import { Progress } from './deploy/progress'
import { CancelledError, type BootOutcome } from './deploy/request'
import { sshOptionsFor } from './deploy/ssh-options'
import { executePlan, type ExecutionResult } from './execute/executor'
import { outputsMarkdown } from './plan/commands/summary'
import { GitHubDeployment, runUrl } from './github/deployments'
import { readInputs, type ActionInputs } from './inputs'
import { builderSshDirectory, makePlan, presentHooks } from './make-plan'
import type { Plan } from './plan/steps'
import { planAsMarkdown, planAsText, planHeadline } from './plan/render'
import { LOCK_STATE, TEMP_PATHS_STATE } from './post'
import { prepareRun, type PreparedRun } from './prepare'
import { appUrl } from './report/app-url'
import { reportError } from './report-error'
import { previewAction, readPreviewRequest } from './preview/request'
import { runPreview } from './preview/run'
import { deploySummaryMarkdown, runFactsFrom, summaryOutputs } from './report/summary'
import { startOutputFile } from './report/output-file'
import { bytesSentOutput, bytesSentSummaryLine } from './transfer/bytes-sent'
import { transferWorkDirectory } from './transfer/local-registry'

/** The action's main step. */
export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd()
  let projectDir = workspace
  try {
    const preview = previewAction(core.getInput('command'))
    const inputs = readInputs(preview ? (name) => (name === 'command' ? 'deploy' : core.getInput(name)) : undefined)
    projectDir = path.resolve(workspace, inputs.workingDirectory)
    const prepared = prepareRun(inputs, { projectDir, env })
    if (preview) return await runPreview(readPreviewRequest(preview, core.getInput, env.GITHUB_EVENT_PATH), { inputs, prepared, env, run: (i, p) => deploy(i, p, { projectDir, workspace, env }) })
    const { config, targets } = prepared

    core.setOutput('version', config.version)
    core.setOutput('image', config.absoluteImage)
    core.setOutput('hosts', targets.hosts.join(','))
    core.setOutput('roles', targets.roles.map((role) => role.name).join(','))
    const url = appUrl(config)
    if (url) core.setOutput('url', url)

    if (inputs.command === 'plan') await showPlan(inputs, prepared, { projectDir, workspace, env })
    else await deploy(inputs, prepared, { projectDir, workspace, env })
  } catch (error) {
    reportError(error, { workspace, projectDir })
    core.setOutput('result', 'failed')
  }
}

async function showPlan(inputs: ActionInputs, prepared: PreparedRun, where: Where): Promise<void> {
  const plan = await makePlan(inputs, prepared, where)
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
/** The commands whose plan connects to every target host first (PlanParts.pipelinedDeployStages). */
const PIPELINED_COMMANDS: readonly string[] = ['deploy', 'redeploy']

/** Everything toward the hosts: the plan, executed, then the summary, deployment status and annotations from its record. */
async function deploy(inputs: ActionInputs, prepared: PreparedRun, where: Where): Promise<DeployResult> {
  const { config, targets, secrets } = prepared
  const command = inputs.command
  const isDeploy = (DEPLOY_COMMANDS as readonly string[]).includes(command)
  const progress = new Progress()
  const redact = redactor(secrets.values())
  const url = appUrl(config)

  // What the post step removes: the build clone and the registry-free transfer files.
  core.saveState(TEMP_PATHS_STATE, JSON.stringify([buildCloneDirectory(config, where.projectDir, where.env), transferWorkDirectory(), builderSshDirectory(where.env.RUNNER_TEMP ?? os.tmpdir())]))
  const sshOptions = sshOptionsFor(config, inputs, secrets, where.env)
  const pool = new HostPool(sshOptions)
  // A deploy's handshakes go on while the runner is probed and the plan is made (Kamal's
  // pre-connect hook, when there is one, runs before any connection).
  if (PIPELINED_COMMANDS.includes(command) && !presentHooks(config.hooksPath, where.projectDir).has('pre-connect')) pool.openEarly(targets.hosts)
  let plan: Plan
  try {
    plan = await makePlan(inputs, prepared, where)
  } catch (error) {
    pool.closeAll()
    throw error
  }

  let cancelled = false
  const cancel = new AbortController()
  const onSignal = (signal: string) => {
    if (!cancelled) core.warning(`${signal} received (the job is being cancelled): finishing the host work under way, stopping the build, starting no more, then releasing the deploy lock.`)
    cancelled = true
    cancel.abort()
  }
  const onInterrupt = () => onSignal('SIGINT')
  const onTerminate = () => onSignal('SIGTERM')
  process.on('SIGINT', onInterrupt)
  process.on('SIGTERM', onTerminate)

  // The GitHub deployment and its in_progress status are created while the hosts work: the run does not wait on the API.
  const deploymentStarted = isDeploy ? startDeployment(inputs, prepared, where.env, url) : Promise.resolve(undefined)
  let execution: ExecutionResult
  const outputFile = startOutputFile(config, { command, subcommand: inputs.subcommand, projectDir: where.projectDir }, secrets.values())
  try {
    execution = await executePlan(plan, {
      config,
      targets,
      secrets,
      pool,
      progress,
      projectDir: where.projectDir,
      performer: prepared.performer,
      lockedBy: prepared.lockedBy,
      registryPassword: prepared.registryPassword,
      rolesFilter: inputs.roles.length > 0 ? targets.roles.map((role) => role.name) : undefined,
      env: where.env,
      cancelled: () => cancelled,
      cancelSignal: cancel.signal,
      // lock acquire leaves the lock held on purpose: the post step must not release it.
      onLock: command === 'lock' && inputs.subcommand === 'acquire' ? undefined : (lock) => core.saveState(LOCK_STATE, lock ? JSON.stringify(lock) : ''),
      redact,
      builderSsh: { privateKeys: sshOptions.privateKeys ?? [], knownHosts: inputs.sshKnownHosts },
    })
  } finally {
    outputFile?.finish(execution! ? execution.failure : new Error('the run stopped'))
    pool.closeAll()
    process.off('SIGINT', onInterrupt)
    process.off('SIGTERM', onTerminate)
  }
  writeRunFiles(plan, execution, redact, where.env)
  const failure = execution.failure
  const result: DeployResult = failure ? (failure instanceof CancelledError || cancelled ? 'cancelled' : 'failed') : execution.unavailableVersion ? 'skipped' : 'success'
  if (execution.message) core.info(execution.message)
  if (!failure && command === 'lock' && inputs.subcommand === 'acquire') core.info('Acquired the deploy lock')
  const digest = execution.shared.get('digest')
  if (digest) core.setOutput('digest', digest)
  if (!failure) progress.say(`  Finished all in ${progress.elapsedSeconds().toFixed(1)} seconds`)

  const deployment = await deploymentStarted
  await deployment?.setStatus(result === 'success' || result === 'skipped' ? 'success' : result === 'cancelled' ? 'error' : 'failure', `${command} ${config.version}: ${result}`)
  const facts = runFactsFrom(config, targets.roles, {
    command: [command, inputs.subcommand, inputs.argument].filter(Boolean).join(' '),
    result,
    plan,
    record: execution.record.entries,
    boots: execution.boots,
    phases: progress.records,
    failure,
    note: execution.message,
    transferLine: bytesSentSummaryLine(execution.bytesSent),
    redact,
    env: where.env,
    environment: deployment ? inputs.environment ?? config.destination ?? 'production' : inputs.environment,
  })
  await core.summary
    .addRaw(deploySummaryMarkdown(facts))
    .addRaw(outputsMarkdown([command, inputs.subcommand, inputs.argument].filter(Boolean).join(' '), execution.outputs))
    .write()
  core.setOutput('result', result)
  const outputs = summaryOutputs(facts)
  core.setOutput('duration', outputs.duration)
  core.setOutput('commit', outputs.commit)
  core.setOutput('previous-version', outputs['previous-version'])
  core.setOutput('failed-hosts', outputs['failed-hosts'])
  if (Object.keys(execution.bytesSent).length > 0) core.setOutput('bytes-sent', bytesSentOutput(execution.bytesSent))
  if (result === 'cancelled') {
    core.error(new CancelledError().message, { title: 'Deploy cancelled' })
    process.exitCode = 1
  } else if (failure) {
    annotateFailure(failure, execution.boots, config.primaryRoleName, redact, where)
    // app exec / server exec: the step exits with the command's own status (the first host's that failed).
    const exited = execution.outputs.find((output) => output.code !== 0)
    if (exited) process.exitCode = exited.code
  }
  return result
}

/** The plan and the record of what ran, as JSON for later steps (`record` output): secrets redacted. */
function writeRunFiles(plan: Plan, execution: ExecutionResult, redact: (text: string) => string, env: NodeJS.ProcessEnv): void {
  const directory = path.join(env.RUNNER_TEMP ?? os.tmpdir(), 'kamal-deploy-run')
  fs.mkdirSync(directory, { recursive: true })
  const planFile = path.join(directory, 'plan.json')
  const recordFile = path.join(directory, 'record.json')
  fs.writeFileSync(planFile, redact(JSON.stringify(plan, null, 1)), { mode: 0o600 })
  fs.writeFileSync(recordFile, redact(JSON.stringify(execution.record.entries, null, 1)), { mode: 0o600 })
  core.setOutput('plan', planFile)
  core.setOutput('record', recordFile)
}

type DeployResult = 'success' | 'failed' | 'cancelled' | 'skipped'

/** GitHub shows about ten error annotations per step: the primary role's failures first, the rest folded into one. */
const MAX_ERROR_ANNOTATIONS = 8

function annotateFailure(failure: unknown, boots: BootOutcome[], primaryRole: string, redact: (text: string) => string, where: { projectDir: string; workspace: string }): void {
  for (const boot of boots.filter((item) => item.rolledBack)) core.info(redact(`Rolled back ${boot.host} (${boot.role}): ${boot.error ?? ''}`))
  const failed = boots.filter((boot) => !boot.ok && !boot.rolledBack).sort((a, b) => Number(b.role === primaryRole) - Number(a.role === primaryRole))
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
