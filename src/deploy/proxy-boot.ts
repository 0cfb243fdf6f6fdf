import { createNetwork, ensureProxyAppsDirectory, proxyImageVersion, proxyStartOrRun } from '../commands/proxy'
import { compareVersions, DEFAULT_PROXY_IMAGE_VERSION } from '../config/model'
import type { RunContext } from './context'
import type { RemoteShell } from './remote'

/** `docker network create kamal`, tolerating an existing network. */
export async function ensureNetwork(shell: RemoteShell): Promise<void> {
  const created = await shell.run(createNetwork(), { allowFailure: true })
  if (created.code !== 0 && !/already exists/.test(created.stderr)) throw new Error(`docker network create kamal failed on ${shell.host}: ${created.stderr.trim()}`)
}

/** `kamal proxy boot` (spec §1.6): the network everywhere, then kamal-proxy on every proxy host. */
export async function bootProxy(context: RunContext): Promise<void> {
  const { config, targets } = context
  context.say('Ensure kamal-proxy is running...')
  await context.onHosts(targets.hosts, 'Network', (shell) => ensureNetwork(shell))
  await context.onHosts(targets.proxyHosts, 'Ensure kamal-proxy', async (shell, host) => {
    await context.loginOn(shell)
    const running = await shell.capture(proxyImageVersion(), { allowFailure: true })
    if (running && /^v?\d/.test(running) && compareVersions(running, DEFAULT_PROXY_IMAGE_VERSION) < 0) {
      throw new Error(`kamal-proxy version ${running} is too old, run \`kamal proxy reboot\` in order to update to at least ${DEFAULT_PROXY_IMAGE_VERSION}`)
    }
    await shell.run(ensureProxyAppsDirectory())
    await shell.run(proxyStartOrRun(config, host), { step: 'kamal-proxy start' })
  })
}
