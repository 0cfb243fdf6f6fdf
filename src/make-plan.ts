/**
 * From the inputs and the prepared config to the run's Plan: gathers the
 * read-only facts the pure plan builders need (hook files, error pages, the
 * runner's docker and the build clone), then builds the plan. `command: plan`
 * prints exactly what a run executes.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { planBuild } from './commands/builder'
import { errorPagesUpload } from './commands/error-pages'
import { accessorySettings } from './config/accessory'
import { BuildError, runnerFacts } from './deploy/build'
import { HOOK_NAMES, hookFile, type HookName } from './hooks'
import type { ActionInputs } from './inputs'
import { digestStep } from './plan/commands/build'
import { buildPlan } from './plan/deploy-plan'
import type { Plan, PlanCommand } from './plan/steps'
import type { PreparedRun } from './prepare'

export interface PlanWhere {
  projectDir: string
  env: NodeJS.ProcessEnv
}

/** The plan of the command in the inputs (`plan` shows the deploy's). */
export async function makePlan(inputs: ActionInputs, prepared: PreparedRun, where: PlanWhere): Promise<Plan> {
  const { config, targets } = prepared
  const command: PlanCommand = inputs.command === 'plan' ? 'deploy' : inputs.command
  // redeploy ships a version that was already built and pushed: it never builds.
  const skipPush = inputs.skipPush || command === 'redeploy'
  const builds = (['deploy', 'setup'].includes(command) && !skipPush) || command === 'build'
  const facts = builds ? await factsForBuild(inputs, prepared, where) : undefined
  const build = facts ? planBuild(config, facts) : []
  const allAccessories = command === 'setup' || command === 'remove'
  const accessoryNames = allAccessories ? config.accessories.map((accessory) => accessory.name) : command === 'accessory' ? (inputs.argument === 'all' || !inputs.argument ? config.accessories.map((accessory) => accessory.name) : [inputs.argument]) : []

  return buildPlan(config, targets, {
    command,
    subcommand: inputs.subcommand,
    argument: inputs.argument,
    skipPush,
    performer: prepared.performer,
    registryUser: prepared.registryUserInCommand,
    hooks: presentHooks(config.hooksPath, where.projectDir),
    build,
    errorPages: ['deploy', 'setup', 'redeploy', 'rollback'].includes(command) ? errorPagesUpload(config, where.projectDir) : undefined,
    accessories: accessoryNames.map((name) => accessorySettings(config, name, where.projectDir)),
    options: inputs.options,
    commandLine: inputs.commandLine,
    explicitVersion: inputs.version !== undefined,
    confirm: inputs.confirm,
    digest: command === 'build' && facts ? digestStep(config, { buildx: facts.buildx, cwd: facts.buildDirectory }) : undefined,
  })
}

async function factsForBuild(inputs: ActionInputs, prepared: PreparedRun, where: PlanWhere) {
  const options = { projectDir: where.projectDir, registryPassword: prepared.registryPassword, registryUser: prepared.registryUser, env: where.env }
  try {
    return await runnerFacts(prepared.config, options)
  } catch (error) {
    // A plan is still worth showing on a machine without Docker: the run itself fails at this point.
    if (inputs.command === 'plan' && error instanceof BuildError) return { buildx: true, buildDirectory: where.projectDir, login: options.registryPassword !== undefined, registryUser: prepared.registryUserLabel }
    throw error
  }
}

function presentHooks(hooksPath: string, projectDir: string): Set<HookName> {
  return new Set(HOOK_NAMES.filter((hook) => fs.existsSync(path.resolve(projectDir, hookFile(hooksPath, hook)))))
}
