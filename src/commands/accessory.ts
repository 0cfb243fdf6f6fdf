import * as fs from 'node:fs'
import type { AccessoryDirectory, AccessoryFile, AccessorySettings } from '../config/accessory'
import type { KamalConfig } from '../config/model'
import { escapeShellValue } from '../shell'
import { argumentize, containerIdFor, docker, line, makeDirectory, optionize, pipe } from './base'
import { envFileContent } from './env-file'
import { proxyDeployCommand, PROXY_CONTAINER } from './proxy'

/**
 * A rendered template can hold secrets, so every file is written owner-only
 * and only then given its configured mode by the `chmod` that follows (the
 * mode Kamal ends with: `755`, or the hash form's `mode`).
 */
export const ACCESSORY_FILE_UPLOAD_MODE = 0o600

/** Commands for one accessory (Kamal::Commands::Accessory), exact strings as Kamal builds them. */
export class AccessoryCommands {
  constructor(
    readonly config: KamalConfig,
    readonly accessory: AccessorySettings,
  ) {}

  get serviceName(): string {
    return this.accessory.service
  }

  /** `.kamal/apps/<sd>/env/accessories` */
  get envDirectory(): string {
    return `.kamal/apps/${this.config.serviceAndDestination}/env/accessories`
  }

  /** `.kamal/apps/<sd>/env/accessories/<name>.env`, uploaded with mode 0600 before `run` */
  get envFilePath(): string {
    return `${this.envDirectory}/${this.accessory.name}.env`
  }

  /** The env file's text (spec §3.1): one line per secret, a lone newline when there are none. */
  envFileContent(secretValue: (key: string) => string): string {
    return envFileContent(this.accessory.env, secretValue)
  }

  /** `docker run` for the accessory; Kamal passes `KAMAL_HOST` when booting on a host. */
  run(host?: string): string {
    const { accessory } = this
    return line(
      'docker run --name',
      accessory.service,
      '--detach --restart',
      accessory.restartPolicy,
      ...this.networkArgs(),
      ...this.loggingArgs(),
      ...(accessory.port ? ['--publish', accessory.port] : []),
      host !== undefined && `--env KAMAL_HOST="${host}"`,
      ...this.envArgs(),
      ...this.volumeArgs(),
      ...argumentize('--label', accessory.labels),
      ...this.optionArgs(),
      accessory.image,
      accessory.cmd,
    )
  }

  start(): string {
    return docker('container', 'start', this.serviceName)
  }

  stop(): string {
    return docker('container', 'stop', this.serviceName)
  }

  /** `docker ps [-a] [-q] --filter label=service=<service>`; boot uses `all`+`quiet` to skip hosts that already have the container. */
  info({ all = false, quiet = false }: { all?: boolean; quiet?: boolean } = {}): string {
    return docker('ps', all && '-a', quiet && '-q', ...this.serviceFilter())
  }

  logs({ timestamps = true, since, lines, grep, grepOptions }: { timestamps?: boolean; since?: string; lines?: number; grep?: string; grepOptions?: string } = {}): string {
    // Kamal's tokens carry a leading space, hence the double spaces.
    const logs = line('docker logs', this.serviceName, since && ` --since ${since}`, lines !== undefined && ` --tail ${lines}`, timestamps && '--timestamps', '2>&1')
    return grep ? pipe(logs, line(`grep '${grep}'`, grepOptions)) : logs
  }

  executeInNewContainer(command: string): string {
    return line('docker run --rm', ...this.networkArgs(), ...this.envArgs(), ...this.volumeArgs(), ...this.optionArgs(), this.accessory.image, command)
  }

  executeInExistingContainer(command: string): string {
    return line('docker exec', this.serviceName, command)
  }

  pullImage(): string {
    return docker('image', 'pull', this.accessory.image)
  }

  removeContainer(): string {
    return docker('container', 'prune', '--force', ...this.serviceFilter())
  }

  removeImage(): string {
    return docker('image', 'rm', '--force', this.accessory.image)
  }

  /** `rm -rf <service>`: the uploaded files and data directories. */
  removeServiceDirectory(): string {
    return line('rm', '-rf', this.serviceName)
  }

  /** The running container's id, the kamal-proxy target after `run`/`start`. */
  runningContainerId(): string {
    return containerIdFor(this.serviceName, true)
  }

  /** `docker exec kamal-proxy kamal-proxy deploy <service> --target=…` for an accessory with a `proxy` block. */
  deploy(target: string): string {
    const proxy = this.accessory.proxy
    if (!proxy) throw new Error(`Accessory ${this.accessory.name} has no proxy configuration`)
    return proxyDeployCommand(this.config, proxy, { service: this.serviceName }, target)
  }

  /** `docker exec kamal-proxy kamal-proxy remove <service>` (accessory stop with a proxy). */
  removeFromProxy(): string {
    return line('docker exec', PROXY_CONTAINER, 'kamal-proxy remove', this.serviceName)
  }

  /**
   * `docker login` for an accessory with its own `registry`, password on stdin
   * (as registryLogin does for the app). Undefined when the accessory has no
   * registry of its own (log in to the root registry instead) or a local one.
   */
  registryLogin(username: string): string | undefined {
    const registry = this.accessory.registry
    if (!registry || registry.local) return undefined
    return line('docker login', registry.server, '-u', escapeShellValue(username), '--password-stdin')
  }

  /** Per directory, in order: `mkdir -p`, then `chmod`/`chown` when set (Kamal's `accessory directories`). */
  directoryCommands(): string[] {
    return this.accessory.directories.flatMap((directory: AccessoryDirectory) => [
      makeDirectory(directory.hostDirectory),
      ...this.ownership(directory.hostDirectory, directory.mode, directory.owner),
    ])
  }

  /**
   * Per file (Kamal's `accessory upload`): make its directory, upload to `remotePath`, then `chmod`
   * (and `chown`). A template that reads one of the accessory's secrets stays 0600 whatever `mode`
   * says: files on hosts that hold secrets are readable by their owner only.
   */
  fileUploads(): AccessoryFileUpload[] {
    return this.accessory.files.map((file) => {
      const holdsSecret = templateReadsSecret(file, this.accessory.env.secret)
      return {
        file,
        before: makeDirectory(posixDirname(file.hostPath)),
        remotePath: file.hostPath,
        uploadMode: ACCESSORY_FILE_UPLOAD_MODE,
        holdsSecret,
        after: this.ownership(file.hostPath, holdsSecret ? '600' : file.mode, file.owner),
      }
    })
  }

  networkArgs(): string[] {
    return argumentize('--network', [this.accessory.network])
  }

  /** The root `logging` (accessories have none of their own). */
  loggingArgs(): string[] {
    const logging = this.config.logging
    const driver = logging.driver
    const options = (logging.options ?? {}) as Record<string, unknown>
    if ((driver !== undefined && driver !== null && driver !== '') || Object.keys(options).length > 0) {
      return [...optionize(driver ? { 'log-driver': driver } : {}), ...argumentize('--log-opt', options)]
    }
    return argumentize('--log-opt', { 'max-size': '10m' })
  }

  envArgs(): string[] {
    return [...argumentize('--env', this.accessory.env.clear), '--env-file', this.envFilePath]
  }

  /** The accessory's `volumes`, then a mount per file, then per directory. */
  volumeArgs(): string[] {
    const mount = (hostPath: string, containerPath: string, options?: string) =>
      ['--volume', [hostPath.startsWith('/') ? hostPath : `$PWD/${hostPath}`, containerPath, options].filter((part) => part !== undefined && part !== '').join(':')]
    return [
      ...argumentize('--volume', this.accessory.volumes),
      ...this.accessory.files.flatMap((file) => mount(file.hostPath, file.containerPath, file.options)),
      ...this.accessory.directories.flatMap((directory) => mount(directory.volumeHostPath, directory.containerPath, directory.options)),
    ]
  }

  optionArgs(): string[] {
    return optionize(this.accessory.options)
  }

  private serviceFilter(): string[] {
    return ['--filter', `label=service=${this.serviceName}`]
  }

  private ownership(target: string, mode?: string, owner?: string): string[] {
    return [mode !== undefined && line('chmod', mode, target), owner !== undefined && line('chown', owner, target)].filter((command): command is string => Boolean(command))
  }
}

export interface AccessoryFileUpload {
  file: AccessoryFile
  /** `mkdir -p <dirname of remotePath>` */
  before: string
  /** relative to the SSH home, e.g. `app-mysql/etc/mysql/my.cnf` */
  remotePath: string
  /** the mode the bytes are written with, before `after` sets Kamal's mode */
  uploadMode: number
  /** the template reads a secret: it stays 0600 */
  holdsSecret: boolean
  /** `chmod <mode> <remotePath>`, then `chown <owner> <remotePath>` when an owner is set */
  after: string[]
}

/** Whether an ERB template names one of these secrets (`NAME` or the `NAME` of `NAME:KEY`). */
export function templateReadsSecret(file: AccessoryFile, secrets: readonly string[]): boolean {
  if (!file.erb || secrets.length === 0) return false
  let template: string
  try {
    template = fs.readFileSync(file.localPath, 'utf8')
  } catch {
    return false // a missing file is reported when it is read for the upload
  }
  return secrets.some((entry) => new RegExp(`\\b${entry.split(':')[0].replace(/[^A-Za-z0-9_]/g, '')}\\b`).test(template))
}

/** Pathname#dirname for the remote (POSIX) side. */
function posixDirname(remote: string): string {
  const trimmed = remote.replace(/\/+$/, '')
  const index = trimmed.lastIndexOf('/')
  if (index < 0) return '.'
  if (index === 0) return '/'
  return trimmed.slice(0, index).replace(/\/+$/, '') || '/'
}
