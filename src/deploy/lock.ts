import { makeDirectory } from '../commands/base'
import { LockCommands, lockDetails } from '../commands/lock'
import type { RunContext } from './context'
import { LockHeldError } from './request'

/** Kamal's deploy lock: `mkdir -p .kamal` on every host, then the lock directory on the primary host. */
export async function acquireLock(context: RunContext, message = 'Automatic deploy lock'): Promise<void> {
  const { config, targets, request } = context
  const lock = new LockCommands(config)
  context.say('Acquiring the deploy lock...')
  await context.onHosts(targets.hosts, 'Prepare', async (shell) => void (await shell.run(makeDirectory('.kamal'))))
  await request.progress.phase(targets.primaryHost, 'Acquire deploy lock', async (log) => {
    const shell = context.shell(targets.primaryHost, log)
    const details = lockDetails({ lockedBy: request.lockedBy, at: new Date(), version: config.version, message })
    const acquired = await shell.run(lock.acquire(details), { allowFailure: true })
    if (acquired.code === 0) return
    if (/cannot create directory|File exists/i.test(acquired.stderr)) {
      const status = await shell.run(lock.status(), { allowFailure: true })
      throw new LockHeldError(targets.primaryHost, status.stdout.trim())
    }
    throw new Error(`Could not take the deploy lock on ${targets.primaryHost}: ${acquired.stderr.trim()}`)
  })
  context.lockHeld = true
  request.onLock?.({ host: targets.primaryHost, directory: lock.directory })
}

export async function releaseLock(context: RunContext): Promise<void> {
  const { request, targets } = context
  context.say('Releasing the deploy lock...')
  await request.progress.phase(targets.primaryHost, 'Release deploy lock', async (log) => {
    await context.shell(targets.primaryHost, log).run(new LockCommands(request.config).release(), { step: 'lock release' })
  })
  context.lockHeld = false
  request.onLock?.(null)
}

/** Runs `work` holding the lock; the lock is released whatever happens. */
export async function withLock<T>(context: RunContext, work: () => Promise<T>): Promise<T> {
  await acquireLock(context)
  try {
    return await work()
  } finally {
    await releaseLock(context)
  }
}
