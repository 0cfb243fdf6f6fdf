import * as core from '@actions/core'
import * as path from 'node:path'
import { CancelledError, runDeploy, type BootOutcome } from './deploy/deploy'
import { HostPool } from './deploy/hosts'
import { Progress } from './deploy/progress'
import { sshOptionsFor } from './deploy/ssh-options'
import { readInputs, type ActionInputs } from './inputs'
import { buildDeployPlan } from './plan/deploy-plan'
import { planAsMarkdown, planAsText, planHeadline } from './plan/render'
import { LOCK_STATE } from './post'
import { prepareRun, type PreparedRun } from './prepare'
import { reportError } from './report-error'
import { deploySummaryMarkdown } from './report/summary'


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

async function deploy(inputs: ActionInputs, prepared: PreparedRun, where: { projectDir: string; workspace: string; env: NodeJS.ProcessEnv }): Promise<void> {
  const { config, targets, secrets } = prepared
  const command = inputs.command as 'deploy' | 'redeploy' | 'rollback'
  const progress = new Progress()
  const pool = new HostPool(sshOptionsFor(config, inputs, secrets, where.env))
  const boots: BootOutcome[] = []
  let cancelled = false
  const onSignal = () => {
    cancelled = true
    core.warning('Cancellation requested: finishing the host work under way, starting no more, then releasing the deploy lock.')
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  let result: 'success' | 'failed' | 'cancelled' | 'skipped' = 'success'
  let failure: unknown
  try {
    const outcome = await runDeploy({
      command,
      config,
      targets,
      secrets,
      pool,
      progress,
      projectDir: where.projectDir,
      performer: prepared.performer,
      lockedBy: prepared.lockedBy,
      // redeploy ships a version that was already built and pushed: it never builds.
      skipPush: inputs.skipPush || command === 'redeploy',
      registryUser: prepared.registryUser,
      registryPassword: prepared.registryPassword,
      boots,
      cancelled: () => cancelled,
      onLock: (lock) => core.saveState(LOCK_STATE, lock ? JSON.stringify(lock) : ''),
    })
    if (outcome.unavailableVersion) result = 'skipped'
    progress.say(`  Finished all in ${progress.elapsedSeconds().toFixed(1)} seconds`)
  } catch (error) {
    failure = error
    result = error instanceof CancelledError || cancelled ? 'cancelled' : 'failed'
  } finally {
    pool.closeAll()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }

  const secretValues = secrets.values().filter((value) => value.length >= 4)
  const redact = (text: string) => secretValues.reduce((out, value) => out.split(value).join('[REDACTED]'), text)
  await core.summary
    .addRaw(
      deploySummaryMarkdown({
        command,
        service: config.service,
        destination: config.destination,
        version: config.version,
        image: config.absoluteImage,
        result,
        seconds: progress.elapsedSeconds(),
        boots,
        phases: progress.records,
        error: failure instanceof Error ? failure.message : failure ? String(failure) : undefined,
        redact,
      }),
    )
    .write()
  core.setOutput('result', result)
  core.setOutput('duration', progress.elapsedSeconds().toFixed(1))

  if (failure) {
    const failedBoots = boots.filter((boot) => !boot.ok)
    if (failedBoots.length > 0) {
      // The primary role's failures first: GitHub shows only about ten annotations per step.
      const primaryFirst = [...failedBoots].sort((a, b) => Number(b.role === config.primaryRoleName) - Number(a.role === config.primaryRoleName))
      for (const boot of primaryFirst) {
        core.error(redact(boot.error ?? 'failed'), { title: `Deploy failed on ${boot.host} (${boot.role})` })
      }
      process.exitCode = 1
    } else {
      reportError(failure, { workspace: where.workspace, projectDir: where.projectDir })
    }
  }
}
