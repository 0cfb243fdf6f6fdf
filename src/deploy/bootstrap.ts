import { bootstrapHost, dockerMissingMessage } from '../commands/server'
import type { RunContext } from './context'

/** `kamal server bootstrap` (spec §1.2): Docker on every host (installed where Kamal would), then the docker-setup hook. */
export async function bootstrapServers(context: RunContext): Promise<void> {
  const { targets, request } = context
  context.say('Ensure Docker is installed...')
  const missing: string[] = []
  const installed: string[] = []
  await context.onHosts(targets.hosts, 'Ensure Docker', async (shell, host) => {
    const outcome = await bootstrapHost(async (command) => (await shell.run(command, { allowFailure: true })).code === 0)
    if (outcome === 'missing') missing.push(host)
    if (outcome === 'installed') installed.push(host)
  })
  if (missing.length > 0) throw new Error(dockerMissingMessage(missing))
  // Adding the login to the docker group ends its SSH session; start a fresh one.
  if (installed.length > 0) await request.pool.reconnect(installed)
  await context.hook('docker-setup')
}
