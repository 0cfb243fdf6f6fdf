/**
 * From the inputs and the prepared config to the run's Plan: gathers the
 * read-only facts the pure plan builders need (hook files, error pages, the
 * runner's docker and the build clone), then builds the plan. `command: plan`
 * prints exactly what a run executes.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { cloneDirectory, isCloneStep, planBuild, type RunnerFacts } from './commands/builder'
import type { KamalConfig } from './config/model'
import { errorPagesUpload } from './commands/error-pages'
import { accessorySettings } from './config/accessory'
import { BuildError, probeRunner } from './deploy/build'
import { HOOK_NAMES, hookFile, type HookName } from './hooks'
import type { ActionInputs } from './inputs'
import { digestStep } from './plan/commands/build'
import { buildPlan } from './plan/deploy-plan'
import type { LocalStep, Plan, PlanCommand } from './plan/steps'
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
  const facts = builds ? await runnerFactsFor(inputs, prepared, where) : undefined
  const registryLogin = prepared.registryPassword !== undefined ? { username: prepared.registryUser, shown: prepared.registryUserLabel } : undefined
  const build = facts ? runnerSteps(config, facts, registryLogin) : []
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
    allOrNothing: inputs.allOrNothing,
    digest: command === 'build' && facts ? digestStep(config, { buildx: facts.buildx, cwd: facts.projectDir }) : undefined,
  })
}

/** What the build plan needs to know about the runner (read-only probes: docker, buildx, pack, arch, the git checkout). */
async function runnerFactsFor(inputs: ActionInputs, prepared: PreparedRun, where: PlanWhere): Promise<RunnerFacts> {
  const facts = await probeRunner(where.env, { config: prepared.config, projectDir: where.projectDir })
  if (!facts.docker && inputs.command !== 'plan') throw new BuildError('Docker is not installed locally: add a step that installs Docker (GitHub-hosted Ubuntu runners have it).')
  return facts
}

/** The runner's part of the plan, pure: Kamal's build commands (planBuild), the clone as one decision, the remote builder's ssh around them. */
export function runnerSteps(config: KamalConfig, probed: RunnerFacts, registryLogin?: { username: string; shown: string }): LocalStep[] {
  let facts = probed
  const kind = config.builder.kind(facts.dockerArch)
  const sshDirectory = kind === 'remote' || kind === 'hybrid' ? builderSshDirectory(facts.tempDir) : undefined
  if (sshDirectory) facts = { ...facts, remoteSsh: { binDir: sshDirectory } }
  const planned = planBuild(config, facts, { registryLogin })
  const steps: LocalStep[] = []
  if (sshDirectory) steps.push({ kind: 'builder-ssh', directory: sshDirectory, changes: true, note: "docker's ssh:// helper gets the deploy key and the pinned host keys" })
  const clone = planned.filter(isCloneStep)
  for (const step of planned) {
    if (!isCloneStep(step)) steps.push({ ...step, changes: true, note: !facts.buildx && step.argv[1] === 'build' ? 'docker buildx is not installed: building with `docker build` and pushing each tag' : undefined })
    else if (step === clone[0] && facts.git) steps.push({ kind: 'clone', steps: clone, revision: facts.git.revision, directory: cloneDirectory(config.service, facts.projectDir, facts.tempDir), changes: true })
  }
  if (sshDirectory) steps.push({ kind: 'remove-directory', path: sshDirectory, changes: true, note: 'the key files go as soon as the build is done' })
  // The registry login and the clone need nothing of each other; the build waits for both.
  const cloneAt = steps.findIndex((step) => step.kind === 'clone')
  const before = steps[cloneAt - 1]
  if (cloneAt > 0 && before.kind === 'runner' && before.argv[1] === 'login') steps[cloneAt - 1] = { ...before, alongsideNext: true, note: 'alongside the clone; the build waits for both' }
  return steps
}

export function builderSshDirectory(tempDir: string): string {
  return path.join(tempDir, 'kamal-builder-ssh')
}

/** The hook files that exist in the project (a hook step is planned only for those). */
export function presentHooks(hooksPath: string, projectDir: string): Set<HookName> {
  return new Set(HOOK_NAMES.filter((hook) => fs.existsSync(path.resolve(projectDir, hookFile(hooksPath, hook)))))
}
