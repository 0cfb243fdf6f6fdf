import { LockCommands } from '../commands/lock'
import { proxyResume, proxyStop } from '../commands/proxy'
import { bootAccessories, rebootAccessories, removeAccessories, selectAccessories } from './accessories'
import { RunContext } from './context'
import { prune } from './deploy'
import { withLock } from './lock'
import type { DeployRequest } from './request'

/** What a maintenance command reports back for the log and the summary. */
export interface OperationResult {
  message: string
}

/**
 * The commands besides deploys: `prune`, `lock release|status`,
 * `app maintenance|live`, `accessory boot|reboot|remove <name|all>`.
 */
export async function runOperation(request: DeployRequest, argument?: string): Promise<OperationResult> {
  const context = new RunContext(request)
  const { command, subcommand, targets, config } = request
  await context.hook('pre-connect')
  await request.pool.connect(targets.hosts)

  if (command === 'lock') {
    const lock = new LockCommands(config)
    return request.progress.phase(targets.primaryHost, `Lock ${subcommand}`, async (log) => {
      const shell = context.shell(targets.primaryHost, log)
      if (subcommand === 'status') {
        const status = await shell.run(lock.status(), { allowFailure: true })
        return { message: status.code === 0 ? status.stdout.trim() : 'There is no deploy lock' }
      }
      const released = await shell.run(lock.release(), { allowFailure: true })
      if (released.code === 0) return { message: 'Released the deploy lock' }
      if (/No such file/.test(released.stderr)) return { message: 'There is no deploy lock' }
      throw new Error(`Could not release the deploy lock on ${targets.primaryHost}: ${released.stderr.trim()}`)
    })
  }

  return withLock(context, async () => {
    if (command === 'prune') {
      await prune(context)
      return { message: `Pruned ${config.service} on ${targets.hosts.join(', ')}` }
    }
    if (command === 'app') {
      const roles = targets.roles.filter((role) => role.proxy)
      for (const role of roles) {
        await context.onHosts(role.hosts, subcommand === 'maintenance' ? 'Maintenance mode' : 'Live', async (shell) => {
          await shell.run(context.auditor.record(subcommand === 'maintenance' ? 'Set app to maintenance mode' : 'Set app to live mode', { role: role.name }))
          await shell.run(subcommand === 'maintenance' ? proxyStop(role, config.drainTimeout) : proxyResume(role), { step: `kamal-proxy ${subcommand === 'maintenance' ? 'stop' : 'resume'}` })
        })
      }
      return { message: `${roles.map((role) => role.containerPrefix).join(', ')} ${subcommand === 'maintenance' ? 'in maintenance mode' : 'live'}` }
    }
    const accessories = selectAccessories(context, argument ?? 'all')
    if (subcommand === 'boot') await bootAccessories(context, accessories)
    else if (subcommand === 'reboot') await rebootAccessories(context, accessories)
    else await removeAccessories(context, accessories)
    return { message: `accessory ${subcommand}: ${accessories.map((accessory) => accessory.name).join(', ')}` }
  })
}
