/** The executor of runner steps: processes on the runner (build), local hooks, waits. */
import * as exec from '@actions/exec'
import { runRunnerStep } from '../deploy/build'
import { imageDigest } from '../plan/commands/build'
import { hooksOutputFor } from '../config/hooks-output'
import { hookEnvironment, hookLogLines, hookReceivesSecrets, runHook } from '../hooks'
import type { LocalStep } from '../plan/steps'
import type { Execution } from './executor'
import type { StepMeta } from './host-steps'

export async function runLocalStep(execution: Execution, step: LocalStep, meta: StepMeta, log: (line: string) => void): Promise<void> {
  const { context } = execution
  const startedAt = Date.now()
  switch (step.kind) {
    case 'runner': {
      const result = await runRunnerStep(step, {
        secret: (name) => context.secrets.get(name),
        registryPassword: context.registryPassword,
        env: context.env,
        log,
        redact: context.redact,
      }).catch((error: unknown) => {
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
    case 'digest': {
      let output = ''
      const code = await exec.exec(step.argv[0], step.argv.slice(1), { cwd: step.cwd, env: context.env as Record<string, string>, ignoreReturnCode: true, silent: true, listeners: { stdout: (data) => (output += data.toString()) } })
      const digest = code === 0 ? imageDigest(output, step.image) : undefined
      log(`$ ${step.display}  → exit ${code}${digest ? `: ${digest}` : ''}`)
      execution.record.add({ ...meta, kind: 'digest', command: step.display, argv: step.argv, outcome: digest ? 'ok' : 'failed', code, startedAt, endedAt: Date.now() })
      if (!digest) throw new Error(`Could not read the digest of ${step.image} after the push (${step.display} exited ${code}): ${output.trim().slice(0, 300)}`)
      execution.shared.set('digest', digest)
      return
    }
  }
}
