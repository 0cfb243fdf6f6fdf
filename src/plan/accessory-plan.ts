/** `kamal accessory boot|reboot|remove` as plan stages. Pure. */
import { AccessoryCommands } from '../commands/accessory'
import type { Auditor } from '../commands/auditor'
import { createNetwork } from '../commands/proxy'
import type { AccessorySettings } from '../config/accessory'
import type { KamalConfig } from '../config/model'
import { placeholder, secretPlaceholder, type Stage, type Step, type StdinSource } from './steps'

export interface AccessoryPlanContext {
  config: KamalConfig
  auditor: Auditor
  /** the app's `docker login` (none for a local registry) */
  login?: string
}

const exec = (command: string, extra: Partial<Extract<Step, { kind: 'exec' }>> = {}): Step => ({ kind: 'exec', command, changes: true, ...extra })

/** Files and directories everywhere, then a container where none exists (Kamal skips an existing one). */
export function accessoryBootStages(context: AccessoryPlanContext, accessories: AccessorySettings[]): Stage[] {
  return accessories
    .filter((accessory) => accessory.hosts.length > 0)
    .map((accessory) => ({
      phase: 'accessories' as const,
      title: `Accessory ${accessory.name}`,
      announce: `Booting accessory ${accessory.name} on ${accessory.hosts.join(', ')}...`,
      lanes: accessory.hosts.map((host) => ({ place: host, units: [{ steps: accessoryBootSteps(context, accessory, host) }] })),
    }))
}

function accessoryBootSteps(context: AccessoryPlanContext, accessory: AccessorySettings, host: string): Step[] {
  const { config, auditor } = context
  const commands = new AccessoryCommands(config, accessory)
  const steps: Step[] = []
  const registry = accessory.registry
  const ownLogin = registry && !registry.local ? commands.registryLogin(credentialLabel(registry.username)) : undefined
  if (ownLogin) steps.push(exec(ownLogin, { stdin: credentialSource(registry?.password), label: 'docker login', note: 'password on stdin' }))
  else if (context.login) steps.push(exec(context.login, { stdin: { registryPassword: true }, label: 'docker login', note: 'password on stdin' }))
  steps.push(exec(createNetwork(), { tolerate: 'already exists', note: "'already exists' is fine" }))
  for (const command of commands.directoryCommands()) steps.push(exec(command, { label: `directories of ${accessory.name}` }))
  commands.fileUploads().forEach((upload, index) => {
    steps.push(exec(upload.before))
    steps.push({ kind: 'upload', path: upload.remotePath, mode: upload.uploadMode, content: { kind: 'accessory-file', accessory: accessory.name, index }, describe: `file of ${accessory.name}`, changes: true })
    for (const command of upload.after) steps.push(exec(command, { label: `file of ${accessory.name}` }))
  })
  steps.push({ kind: 'skip-if', command: commands.info({ all: true, quiet: true }), message: `Skipping booting ${accessory.name} on ${host}, a container already exists`, changes: false })
  steps.push(exec(auditor.record(`Booted ${accessory.name} accessory`)))
  steps.push({ kind: 'upload', path: commands.envFilePath, directory: commands.envDirectory, mode: 0o600, content: { kind: 'accessory-env', accessory: accessory.name }, describe: `env of ${accessory.name}`, changes: true })
  steps.push(exec(commands.run(host), { label: `docker run ${accessory.service}` }))
  if (accessory.proxy) {
    steps.push({ kind: 'exec', command: commands.runningContainerId(), capture: 'container_id', changes: false, label: `${accessory.service} container id` })
    steps.push(exec(commands.deploy(placeholder('container_id')), { label: `kamal-proxy deploy ${accessory.service}` }))
  }
  return steps
}

/** Stop, remove the container, its image and its directory. */
export function accessoryRemoveStages(context: AccessoryPlanContext, accessories: AccessorySettings[]): Stage[] {
  return accessories.map((accessory) => {
    const commands = new AccessoryCommands(context.config, accessory)
    const steps: Step[] = [
      ...(accessory.proxy ? [exec(commands.removeFromProxy(), { allowFailure: true })] : []),
      exec(commands.stop(), { allowFailure: true }),
      exec(commands.removeContainer(), { allowFailure: true }),
      exec(commands.removeImage(), { allowFailure: true }),
      exec(commands.removeServiceDirectory(), { allowFailure: true }),
    ]
    return { phase: 'accessories' as const, title: `Remove accessory ${accessory.name}`, lanes: accessory.hosts.map((host) => ({ place: host, units: [{ steps }] })) }
  })
}

/** Stop and remove each container, then boot again. */
export function accessoryRebootStages(context: AccessoryPlanContext, accessories: AccessorySettings[]): Stage[] {
  const stops = accessories.map((accessory): Stage => {
    const commands = new AccessoryCommands(context.config, accessory)
    return {
      phase: 'accessories',
      title: `Stop accessory ${accessory.name}`,
      lanes: accessory.hosts.map((host) => ({ place: host, units: [{ steps: [exec(commands.stop(), { allowFailure: true }), exec(commands.removeContainer(), { allowFailure: true })] }] })),
    }
  })
  return [...stops, ...accessoryBootStages(context, accessories)]
}

/** A registry username in a command: the secret's placeholder for `[NAME]`, the literal otherwise. */
function credentialLabel(value: unknown): string {
  return Array.isArray(value) ? secretPlaceholder(String(value[0])) : String(value ?? '')
}

function credentialSource(value: unknown): StdinSource {
  return Array.isArray(value) ? { secret: String(value[0]) } : { literal: String(value ?? '') }
}
