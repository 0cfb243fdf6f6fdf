import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import type { KamalConfig } from '../config/model'
import { MultiHostError } from '../deploy/hosts'
import type { SshConnection } from '../remote/ssh-connection'
import type { BytesSent } from './bytes-sent'
import { saveImage } from './docker-save'
import { registryImage } from './image-manifest'
import { layerBlobs } from './layer-blobs'
import { RegistryServer } from './registry-server'
import { formatBytes, TransferMeter } from './transfer-meter'
import { openTunnels } from './tunnels'

export interface LocalRegistryShipment {
  config: KamalConfig
  /** the hosts that pull */
  hosts: string[]
  connection: (host: string) => SshConnection
  say: (line: string) => void
  /** docker CLI environment on the runner (DOCKER_HOST …) */
  env?: NodeJS.ProcessEnv
  /** where the saved image and the compressed-layer cache live; default $RUNNER_TEMP or the OS temp dir */
  workDirectory?: string
  /** filled with host → bytes sent, also when the pull fails */
  bytesSent?: BytesSent
}

/** The host could not receive the image because its SSH connection (and so the tunnel) went away mid-transfer. */
export class TransferCutError extends Error {
  constructor(
    readonly host: string,
    reason: string,
    bytesSent: number,
  ) {
    super(`Image transfer to ${host} was cut after ${formatBytes(bytesSent)}: ${reason}. The new image was not tagged on ${host}; the version running there keeps serving.`)
    this.name = 'TransferCutError'
  }
}

/** The registry port of `registry.server: localhost:<port>`. */
export function localRegistryPort(config: KamalConfig): number {
  const port = Number(/^localhost:(\d+)/.exec(config.registryServer ?? '')?.[1] ?? 5555)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`registry.server ${config.registryServer}: the port must be 1–65535`)
  return port
}

/**
 * Kamal's local-registry mode without a registry container (spec §4.3): the built image is read
 * from the runner's Docker with `docker save`, its layers are served by an in-process read-only
 * registry on 127.0.0.1, and each host reaches it through a reverse forward on the deploy's own
 * SSH connection at its 127.0.0.1:<port>. `pull` runs the ordinary `docker pull localhost:<port>/…`
 * on the hosts, so each fetches only the layers it lacks. Everything is torn down afterwards.
 */
/** The saved image and the compressed-layer cache of registry-free deploys. */
export function transferWorkDirectory(workDirectory?: string): string {
  return path.join(workDirectory ?? process.env.RUNNER_TEMP ?? os.tmpdir(), 'kamal-deploy-transfer')
}

export async function shipThroughLocalRegistry<T>(shipment: LocalRegistryShipment, pull: () => Promise<T>): Promise<T> {
  const { config, hosts, say } = shipment
  const image = config.absoluteImage
  const base = transferWorkDirectory(shipment.workDirectory)
  fs.mkdirSync(base, { recursive: true })
  const saveDirectory = fs.mkdtempSync(path.join(base, 'save-'))
  try {
    const started = Date.now()
    say(`Reading ${image} from the runner's Docker (docker save) and compressing its layers...`)
    const saved = await saveImage(image, saveDirectory, shipment.env)
    const blobs = await layerBlobs(saved.layers, path.join(base, 'layers'))
    const served = registryImage(config.image, config.version, saved.config, blobs)
    say(`  ${blobs.length} layers, ${formatBytes(blobs.reduce((sum, blob) => sum + blob.size, 0))} compressed, ready in ${((Date.now() - started) / 1000).toFixed(1)}s`)

    const server = await RegistryServer.start(served)
    const meter = new TransferMeter(hosts, say)
    const lost = new Map<string, string>()
    const unsubscribe = hosts.map((host) => shipment.connection(host).onLost((reason) => lost.set(host, reason)))
    let closeTunnels: (() => Promise<void>) | undefined
    try {
      say(`Setting up local registry port forwarding to ${hosts.join(', ')}...`)
      closeTunnels = await openTunnels(hosts.map(shipment.connection), { remotePort: localRegistryPort(config), localPort: server.port, onBytesSent: (host, bytes) => meter.add(host, bytes) })
      meter.start()
      return await pull()
    } catch (error) {
      throw explainLostHosts(error, lost, meter)
    } finally {
      meter.stop()
      say('Bytes sent to each host:')
      for (const line of meter.summaryLines()) say(line)
      if (shipment.bytesSent) Object.assign(shipment.bytesSent, meter.totals())
      for (const stop of unsubscribe) stop()
      await closeTunnels?.()
      await server.close()
    }
  } finally {
    fs.rmSync(saveDirectory, { recursive: true, force: true })
  }
}

/** A host whose SSH connection died during the pull gets an error that says so, instead of `docker pull … exit 255`. */
function explainLostHosts(error: unknown, lost: Map<string, string>, meter: TransferMeter): unknown {
  if (lost.size === 0) return error
  const cut = (host: string) => new TransferCutError(host, lost.get(host) ?? 'the SSH connection closed', meter.bytesSent(host))
  if (error instanceof MultiHostError) return new MultiHostError(error.failures.map((failure) => (lost.has(failure.host) ? { host: failure.host, error: cut(failure.host) } : failure)))
  const [host] = lost.keys()
  return new MultiHostError([{ host, error: cut(host) }])
}
