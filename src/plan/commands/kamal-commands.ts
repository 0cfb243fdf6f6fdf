/**
 * Kamal::Commands lines used by the commands of src/plan/commands that the
 * deploy does not already build in src/commands (app exec, logs, details,
 * remove, proxy reboot/remove, audit). Each is the line Kamal 2.12 runs.
 */
import { AppCommands } from '../../commands/app'
import { argumentize, docker, line, optionize, pipe, shell } from '../../commands/base'
import { PROXY_APPS_DIRECTORY, PROXY_CONTAINER } from '../../commands/proxy'
import type { KamalConfig, Role } from '../../config/model'

const PROXY_IMAGE_LABEL = 'label=org.opencontainers.image.title=kamal-proxy'

/** Kamal's container_filter_args: service, destination (empty without one), role when given. */
export function containerFilterArgs(config: KamalConfig, role?: Role): string[] {
  return [`--filter label=service=${config.service}`, `--filter label=destination=${config.destination ?? ''}`, ...(role ? [`--filter label=role=${role.name}`] : [])]
}

/** The options of `kamal app logs` / `accessory logs` (Kamal's defaults already applied). */
export interface LogOptions {
  timestamps: boolean
  since?: string
  lines?: number
  grep?: string
  grepOptions?: string
  containerId?: string
}

/** Kamal's default: 100 lines unless --since or --grep narrows the log. */
export function logOptions(options: { since?: string; lines?: number; grep?: string; grepOptions?: string; skipTimestamps?: boolean; containerId?: string }): LogOptions {
  const lines = options.lines ?? (options.since !== undefined || options.grep !== undefined ? undefined : 100)
  return { timestamps: !options.skipTimestamps, since: options.since, lines, grep: options.grep, grepOptions: options.grepOptions, containerId: options.containerId }
}

const grepFilter = (options: LogOptions): string | undefined => (options.grep !== undefined ? `grep '${options.grep}'${options.grepOptions ? ` ${options.grepOptions}` : ''}` : undefined)

/** Commands of one role on one host that the deploy has no use for. */
export class AppOperations {
  readonly app: AppCommands

  constructor(
    readonly config: KamalConfig,
    readonly role: Role,
    readonly host: string,
  ) {
    this.app = new AppCommands(config, role, host)
  }

  /** `docker exec <container> <cmd>` (execute_in_existing_container) */
  executeInExistingContainer(command: string, version: string): string {
    return line('docker exec', this.app.containerName(version), command)
  }

  /** `docker run --rm --name <prefix>-exec-<version>-<hex>` … (execute_in_new_container) */
  executeInNewContainer(command: string, { detach = false, hex }: { detach?: boolean; hex: string }): string {
    const { config, role, host } = this
    const env = config.envFor(role, host)
    return line(
      'docker run',
      detach ? '--detach' : '--rm',
      '--name',
      [role.containerPrefix, 'exec', config.version, hex].join('-'),
      '--network kamal',
      ...argumentize('--env', env.clear),
      '--env-file',
      this.app.envFilePath,
      ...this.app.loggingArgs(),
      ...argumentize('--volume', config.volumes),
      ...optionize(Object.entries(role.options).filter(([key]) => key !== 'restart')),
      config.absoluteImage,
      command,
    )
  }

  logs(options: LogOptions): string {
    const source = options.containerId !== undefined ? shell(`echo ${options.containerId}`) : this.app.currentRunningContainerId()
    const logs = `xargs docker logs${options.timestamps ? ' --timestamps' : ''}${options.since !== undefined ? ` --since ${options.since}` : ''}${options.lines !== undefined ? ` --tail ${options.lines}` : ''} 2>&1`
    return pipe(...[source, logs, grepFilter(options)].filter((part): part is string => part !== undefined))
  }

  /** `docker ps` of this role (Kamal's app.info) */
  info(): string {
    return line('docker ps', ...containerFilterArgs(this.config, this.role))
  }

  start(): string {
    return docker('start', this.app.containerName())
  }

  removeContainers(): string {
    return line('docker container prune --force', ...containerFilterArgs(this.config, this.role))
  }

  /** `kamal-proxy remove <prefix>` (Kamal's app.remove: the route, not the container) */
  removeFromProxy(): string {
    return line('docker exec', PROXY_CONTAINER, 'kamal-proxy remove', this.role.containerPrefix)
  }
}

/** `docker container ls --all` of the service (Kamal's app.list_containers, no role) */
export const listContainers = (config: KamalConfig): string => line('docker container ls --all', ...containerFilterArgs(config))

export const removeImages = (config: KamalConfig): string => line('docker image prune --all --force', `--filter label=service=${config.service}`)

export const appDirectory = (config: KamalConfig): string => `.kamal/apps/${config.serviceAndDestination}`
export const removeAppDirectory = (config: KamalConfig): string => line('rm -r', appDirectory(config))
export const removeProxyAppDirectory = (config: KamalConfig): string => line('rm -r', `${PROXY_APPS_DIRECTORY}/${config.serviceAndDestination}`)
/** How many apps are installed on a host (Kamal's server.app_directory_count) */
export const appDirectoryCount = (): string => pipe('ls .kamal/apps', 'wc -l')

export const proxyContainerStop = (): string => docker('container', 'stop', PROXY_CONTAINER)
export const proxyRemoveContainer = (): string => line('docker container prune --force --filter', PROXY_IMAGE_LABEL)
export const proxyRemoveImage = (): string => line('docker image prune --all --force --filter', PROXY_IMAGE_LABEL)
export const proxyRemoveDirectory = (): string => line('rm -r', '.kamal/proxy')
export const proxyInfo = (): string => line('docker ps --filter', `'name=^${PROXY_CONTAINER}$'`)

export const registryLogout = (config: KamalConfig): string => docker('logout', config.registryServer)

/** `tail -n 50 <audit log>` (Kamal's auditor.reveal) */
export const auditReveal = (logFile: string): string => line('tail -n 50', logFile)
