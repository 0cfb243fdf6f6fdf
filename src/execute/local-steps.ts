/** The executor of runner steps: processes on the runner (build), local hooks, waits. */
import * as exec from '@actions/exec'
import * as fs from 'node:fs'
import { prepareClone, prepareRemoteBuilderSsh, runRunnerStep, StepStoppedError } from '../deploy/build'
import { imageDigest } from '../plan/commands/build'
import { hooksOutputFor } from '../config/hooks-output'
import { hookEnvironment, hookLogLines, hookReceivesSecrets, runHook } from '../hooks'
import { CancelledError } from '../deploy/request'
import type { LocalStep } from '../plan/steps'
import type { Execution } from './executor'
import type { StepMeta } from './host-steps'

/** A runner step not started because the run had already failed; the first failure is what the run reports. */
export class RunFailedElsewhereError extends Error {
  constructor(purpose: string) {
    super(`${purpose}: not run, the run had already failed`)
    this.name = 'RunFailedElsewhereError'
  }
}

export async function runLocalStep(execution: Execution, step: LocalStep, meta: StepMeta, log: (line: string) => void): Promise<void> {
  const { context } = execution
  const startedAt = Date.now()
  switch (step.kind) {
    case 'runner': {
      // A run that failed elsewhere (the lock held by another deploy) pushes nothing more: its
      // push would only race the other deploy's in the registry.
      if (execution.runFailed) {
        log(`$ ${step.display}  (not run: the run has already failed)`)
        execution.record.add({ ...meta, kind: 'runner', command: step.display, argv: step.argv, outcome: 'skipped', startedAt, endedAt: startedAt })
        throw new RunFailedElsewhereError(step.purpose)
      }
      if (step.note) log(step.note)
      const result = await runRunnerStep(step, io()).catch((error: unknown) => {
        // Stopped mid-way: the run failed elsewhere (a build whose push would race the lock holder's) or the job is being cancelled.
        if (error instanceof StepStoppedError) {
          const cancelled = execution.context.cancelled?.() === true
          log(`  (stopped: ${cancelled ? 'the job is being cancelled' : 'the run has failed'})`)
          execution.record.add({ ...meta, kind: 'runner', command: step.display, argv: step.argv, outcome: 'stopped', startedAt, endedAt: Date.now() })
          throw cancelled ? new CancelledError() : new RunFailedElsewhereError(step.purpose)
        }
        execution.record.add({ ...meta, kind: 'runner', command: step.display, argv: step.argv, outcome: 'failed', startedAt, endedAt: Date.now() })
        throw error
      })
      if (step.skipIf) execution.record.add({ ...meta, kind: 'runner-check', command: step.skipIf.display, argv: step.skipIf.argv, outcome: 'ok', code: result.outcome === 'skipped' ? 0 : 1, startedAt, endedAt: startedAt })
      if (result.outcome !== 'skipped') execution.record.add({ ...meta, kind: 'runner', command: step.display, argv: step.argv, outcome: result.outcome === 'failed' ? 'tolerated' : result.outcome, code: result.code, startedAt: result.startedAt, endedAt: result.endedAt })
      return
    }
    case 'hook': {
      const { config, targets } = context
      const secrets = hookReceivesSecrets(step.hook) ? Object.fromEntries(context.secrets.keys().map((key) => [key, context.secrets.get(key)])) : undefined
      const hookEnv = hookEnvironment(step.hook, {
        config,
        performer: context.performer,
        recordedAt: new Date(),
        hosts: step.hosts.length > 0 ? step.hosts : targets.hosts,
        roles: context.rolesFilter,
        lock: execution.lockHeld,
        command: execution.plan.command,
        subcommand: execution.plan.subcommand,
        runtimeSeconds: step.hook === 'post-deploy' ? context.progress.elapsedSeconds() : undefined,
        secrets,
      })
      const run = await runHook(step.hook, { projectDir: context.projectDir, hooksPath: config.hooksPath, baseEnv: context.env, hookEnv })
      // hooks_output: quiet shows nothing, verbose the hook's output, unset the Running/Finished lines (Kamal's levels).
      for (const line of hookLogLines(run, hooksOutputFor(config, step.hook))) log(context.redact(line))
      execution.record.add({ ...meta, kind: 'hook', command: run.file, outcome: 'ok', code: 0, startedAt, endedAt: Date.now() })
      return
    }
    case 'sleep':
      await new Promise((resolve) => setTimeout(resolve, step.seconds * 1000))
      execution.record.add({ ...meta, kind: 'sleep', command: `sleep ${step.seconds}`, outcome: 'ok', startedAt, endedAt: Date.now() })
      return
    case 'ship':
      return
    case 'clone': {
      const records = await prepareClone(step.steps, io(), step.revision, step.directory)
      for (const record of records) execution.record.add({ ...meta, kind: 'runner', command: record.step.display, argv: record.step.argv, outcome: record.outcome === 'failed' ? 'tolerated' : record.outcome, code: record.code, startedAt: record.startedAt, endedAt: record.endedAt })
      log(`Building from a local git clone of ${step.revision.slice(0, 12)} (uncommitted changes are not included): ${step.directory}`)
      return
    }
    case 'builder-ssh': {
      const ssh = { privateKeys: context.builderSsh?.privateKeys ?? [], knownHosts: context.builderSsh?.knownHosts }
      prepareRemoteBuilderSsh(step.directory, ssh, context.env, log)
      execution.record.add({ ...meta, kind: 'builder-ssh', command: `prepare ${step.directory}/ssh (deploy key, pinned host keys)`, outcome: 'ok', startedAt, endedAt: Date.now() })
      return
    }
    case 'remove-directory':
      fs.rmSync(step.path, { recursive: true, force: true })
      execution.record.add({ ...meta, kind: 'remove-directory', command: `rm -rf ${step.path}`, outcome: 'ok', startedAt, endedAt: Date.now() })
      return
    case 'digest': {
      const ask = async (argv: string[], display: string) => {
        let output = ''
        const askedAt = Date.now()
        const code = await exec.exec(argv[0], argv.slice(1), { cwd: step.cwd, env: context.env as Record<string, string>, ignoreReturnCode: true, silent: true, listeners: { stdout: (data) => (output += data.toString()) } })
        const found = code === 0 ? imageDigest(output, step.image) : undefined
        log(`$ ${display}  → exit ${code}${found ? `: ${found}` : ''}`)
        execution.record.add({ ...meta, kind: 'digest', command: display, argv, outcome: found ? 'ok' : step.fallback && argv === step.argv ? 'tolerated' : 'failed', code, startedAt: askedAt, endedAt: Date.now() })
        return { found, code, output }
      }
      let { found: digest, code, output } = await ask(step.argv, step.display)
      if (!digest && step.fallback) ({ found: digest, code, output } = await ask(step.fallback.argv, step.fallback.display))
      if (!digest) throw new Error(`Could not read the digest of ${step.image} after the push (${step.display} exited ${code}): ${output.trim().slice(0, 300)}`)
      execution.shared.set('digest', digest)
      return
    }
  }

  function io() {
    return { secrets: (name: string) => context.secrets.get(name), registryPassword: context.registryPassword, env: context.env, log, signal: execution.stopSignal }
  }
}
