/** `kamal server exec CMD` and `kamal audit` (Kamal::Cli::Server, Kamal::Cli::Main#audit). Pure. */
import type { PlanParts } from '../deploy-plan'
import { stageOnEach, type Stage } from '../steps'
import { connected, exec, hostHeading } from './common'
import { auditReveal } from './kamal-commands'

/** The command on every selected host, its output streamed, its exit status the run's. */
export function serverExecStages(parts: PlanParts): Stage[] {
  const { targets, request, auditor } = parts
  const command = request.commandLine ?? ''
  return [
    ...connected(parts),
    stageOnEach('command', 'Server exec', targets.hosts, (host) => [
      exec(auditor.record(`Executed cmd '${command}' on ${host}`)),
      { kind: 'stream', command, heading: hostHeading(host), rawOutput: request.options?.rawOutput, prefixLines: targets.hosts.length > 1, changes: true },
    ], { announce: `Running '${command}' on ${targets.hosts.join(', ')}...` }),
  ]
}

/** The last 50 lines of the audit log on every selected host. */
export function auditStages(parts: PlanParts): Stage[] {
  const { targets, auditor } = parts
  return [...connected(parts), stageOnEach('command', 'Audit log', targets.hosts, (host) => [{ kind: 'show', command: auditReveal(auditor.logFile), heading: hostHeading(host), changes: false }])]
}
