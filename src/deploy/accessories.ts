import { AccessoryCommands } from '../commands/accessory'
import { accessoryFileContent, accessorySettings, type AccessorySettings } from '../config/accessory'
import type { RunContext } from './context'
import { ensureNetwork } from './proxy-boot'
import type { RemoteShell } from './remote'

/** The accessories a command names: one by name, or `all` in config order. */
export function selectAccessories(context: RunContext, name: string): AccessorySettings[] {
  const { config, request } = context
  const names = name === 'all' ? config.accessories.map((accessory) => accessory.name) : [name]
  return names.map((item) => accessorySettings(config, item, request.projectDir))
}

/** `kamal accessory boot` (per accessory, on its hosts): files and directories everywhere, a container where none exists. */
export async function bootAccessories(context: RunContext, accessories: AccessorySettings[]): Promise<void> {
  for (const accessory of accessories) {
    if (accessory.hosts.length === 0) continue
    context.say(`Booting accessory ${accessory.name} on ${accessory.hosts.join(', ')}...`)
    await context.onHosts(accessory.hosts, `Accessory ${accessory.name}`, (shell, host) => bootAccessoryOn(context, accessory, shell, host))
  }
}

async function bootAccessoryOn(context: RunContext, accessory: AccessorySettings, shell: RemoteShell, host: string): Promise<void> {
  const { config, request, auditor } = context
  const commands = new AccessoryCommands(config, accessory)
  const credential = (value: unknown) => (Array.isArray(value) ? request.secrets.get(String(value[0])) : String(value ?? ''))
  const ownLogin = accessory.registry && !accessory.registry.local ? commands.registryLogin(credential(accessory.registry.username)) : undefined
  if (ownLogin) await shell.run(ownLogin, { stdin: credential(accessory.registry?.password), step: 'docker login' })
  else await context.loginOn(shell)
  await ensureNetwork(shell)

  for (const command of commands.directoryCommands()) await shell.run(command, { step: `directories of ${accessory.name}` })
  for (const upload of commands.fileUploads()) {
    await shell.run(upload.before)
    const content = accessoryFileContent(upload.file, { projectDir: request.projectDir, env: request.env, accessory, secretValue: (key) => request.secrets.get(key) })
    await shell.upload(upload.remotePath, content, upload.uploadMode, `file of ${accessory.name}`)
    for (const command of upload.after) await shell.run(command, { step: `file of ${accessory.name}` })
  }

  const existing = await shell.capture(commands.info({ all: true, quiet: true }), { allowFailure: true })
  if (existing) {
    context.say(`Skipping booting ${accessory.name} on ${host}, a container already exists`)
    return
  }
  await shell.run(auditor.record(`Booted ${accessory.name} accessory`))
  await shell.run(commands.ensureEnvDirectory())
  await shell.upload(commands.envFilePath, commands.envFileContent((key) => request.secrets.get(key)), 0o600, `env of ${accessory.name}`)
  await shell.run(commands.run(host), { step: `docker run ${accessory.service}` })
  if (accessory.proxy) {
    const id = await shell.capture(commands.runningContainerId())
    await shell.run(commands.deploy(id), { step: `kamal-proxy deploy ${accessory.service}` })
  }
}

/** `kamal accessory remove`: stop, remove the container, its image and its directory. */
export async function removeAccessories(context: RunContext, accessories: AccessorySettings[]): Promise<void> {
  for (const accessory of accessories) {
    const commands = new AccessoryCommands(context.config, accessory)
    await context.onHosts(accessory.hosts, `Remove accessory ${accessory.name}`, async (shell) => {
      if (accessory.proxy) await shell.run(commands.removeFromProxy(), { allowFailure: true })
      await shell.run(commands.stop(), { allowFailure: true })
      await shell.run(commands.removeContainer(), { allowFailure: true })
      await shell.run(commands.removeImage(), { allowFailure: true })
      await shell.run(commands.removeServiceDirectory(), { allowFailure: true })
    })
  }
}

/** `kamal accessory reboot`: stop and remove the container, then boot it again. */
export async function rebootAccessories(context: RunContext, accessories: AccessorySettings[]): Promise<void> {
  for (const accessory of accessories) {
    const commands = new AccessoryCommands(context.config, accessory)
    await context.onHosts(accessory.hosts, `Stop accessory ${accessory.name}`, async (shell) => {
      await shell.run(commands.stop(), { allowFailure: true })
      await shell.run(commands.removeContainer(), { allowFailure: true })
    })
  }
  await bootAccessories(context, accessories)
}
