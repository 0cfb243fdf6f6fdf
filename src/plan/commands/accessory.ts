/** `kamal accessory logs|details|exec NAME` (Kamal::Cli::Accessory). Pure. */
import { AccessoryCommands } from '../../commands/accessory'
import type { PlanParts } from '../deploy-plan'
import { stageOnEach, type Stage } from '../steps'
import { connected, exec, hostHeading } from './common'
import { logOptions } from './kamal-commands'

const heading = (name: string, host: string) => hostHeading(host, `Accessory ${name}`)

export function accessoryDetailsStages(parts: PlanParts): Stage[] {
  const { config, request } = parts
  return [
    ...connected(parts),
    ...request.accessories.map((accessory) => stageOnEach('command', `Accessory ${accessory.name} details`, accessory.hosts, (host) => [{ kind: 'show', command: new AccessoryCommands(config, accessory).info(), heading: heading(accessory.name, host), changes: false }])),
  ]
}

export function accessoryLogsStages(parts: PlanParts): Stage[] {
  const { config, request } = parts
  const options = logOptions(request.options ?? {})
  return [
    ...connected(parts),
    ...request.accessories.map((accessory) => stageOnEach('command', `Accessory ${accessory.name} logs`, accessory.hosts, (host) => [{ kind: 'show', command: new AccessoryCommands(config, accessory).logs(options), heading: heading(accessory.name, host), changes: false }])),
  ]
}

/** In a new container of the accessory's image, or with --reuse in the running one; output streamed, exit status the run's. */
export function accessoryExecStages(parts: PlanParts): Stage[] {
  const { config, request, auditor } = parts
  const command = request.commandLine ?? ''
  const reuse = request.options?.reuse === true
  return [
    ...connected(parts),
    ...request.accessories.map((accessory) => {
      const commands = new AccessoryCommands(config, accessory)
      return stageOnEach('command', `Accessory ${accessory.name} exec`, accessory.hosts, (host) => [
        ...(reuse ? [] : parts.loginStep()),
        exec(auditor.record(`Executed cmd '${command}' on ${accessory.name} accessory`)),
        { kind: 'stream', command: reuse ? commands.executeInExistingContainer(command) : commands.executeInNewContainer(command), heading: heading(accessory.name, host), rawOutput: request.options?.rawOutput, prefixLines: accessory.hosts.length > 1, changes: true },
      ], { announce: `Launching command from ${reuse ? 'existing' : 'new'} container...` })
    }),
  ]
}
