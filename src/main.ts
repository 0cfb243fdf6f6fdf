import * as core from '@actions/core'
import * as path from 'node:path'
import { readInputs } from './inputs'
import { buildDeployPlan } from './plan/deploy-plan'
import { planAsMarkdown, planAsText, planHeadline } from './plan/render'
import { prepareRun } from './prepare'
import { reportError } from './report-error'

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

    if (inputs.command !== 'plan') {
      throw new Error(`command '${inputs.command}' cannot run toward hosts in this version of the action yet; use command: plan to see what it would do.`)
    }

    const plan = buildDeployPlan(config, targets, {
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
  } catch (error) {
    reportError(error, { workspace, projectDir })
    core.setOutput('result', 'failed')
  }
}
