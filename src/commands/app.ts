import type { EnvSpec } from '../config/env'
import type { KamalConfig, Role } from '../config/model'
import { assetContainerPath, assetVolumeDirectory, roleHasAssets } from './assets'
import { argumentize, containerIdFor, docker, line, optionize, pipe, shell, xargs } from './base'
import { PROXY_CONTAINER } from './proxy'

/** A line no container name can be ('=' is not allowed in one). */
const STALE_SURVEY_MARKER = '=current='

export function parseStaleSurvey(output: string): { versions: string[]; current: string } {
  const lines = output.split('\n').map((item) => item.trim())
  const marker = lines.indexOf(STALE_SURVEY_MARKER)
  // No marker: the output was cut short, so nothing is known to be stale.
  if (marker < 0) return { versions: [], current: '' }
  return { versions: lines.slice(0, marker).filter(Boolean), current: lines.slice(marker + 1).find(Boolean) ?? '' }
}

const SERVING_SURVEY_MARKER = '=running='

/**
 * The version kamal-proxy routes `service` to, from servingSurvey's output: the service's row of
 * `kamal-proxy list` names its targets (`<container id>:<port>`), matched against the running
 * containers (`<id> <name>`). Undefined when kamal-proxy does not answer or routes elsewhere.
 */
export function parseServingVersion(output: string, service: string, containerPrefix: string): string | undefined {
  const lines = output.split('\n').map((item) => item.trim())
  const marker = lines.indexOf(SERVING_SURVEY_MARKER)
  if (marker < 0) return undefined
  const row = lines.slice(0, marker).map((item) => item.split(/\s+/)).find((words) => words[0] === service)
  if (!row) return undefined
  const targets = row.slice(1).flatMap((word) => word.split(',')).map((target) => target.replace(/:\d+$/, ''))
  for (const [id, name] of lines.slice(marker + 1).filter(Boolean).map((item) => item.split(/\s+/))) {
    // A target is the container's id (12 hex, as the boot gives it) or its name.
    if (name?.startsWith(`${containerPrefix}-`) && targets.some((target) => target === name || (target.length >= 12 && id.startsWith(target)))) return name.slice(containerPrefix.length + 1)
  }
  return undefined
}

const HEALTH_STATUS_FORMAT = `'{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}'`

/** Commands for one role of the app on one host (Kamal::Commands::App). */
export class AppCommands {
  constructor(
    readonly config: KamalConfig,
    readonly role: Role,
    readonly host: string,
  ) {}

  containerName(version = this.config.version): string {
    return `${this.role.containerPrefix}-${version}`
  }

  get envDirectory(): string {
    return `.kamal/apps/${this.config.serviceAndDestination}/env/roles`
  }

  get envFilePath(): string {
    return `${this.envDirectory}/${this.role.name}.env`
  }

  containerIdForVersion(version: string, onlyRunning = false): string {
    return containerIdFor(this.containerName(version), onlyRunning)
  }

  rename(from: string, to: string): string {
    return docker('rename', from, to)
  }

  run({ env, hostname }: { env: EnvSpec; hostname?: string }): string {
    const { config, role, host } = this
    const name = this.containerName()
    return line(
      'docker run --detach --restart',
      this.restartPolicy,
      '--name',
      name,
      '--network kamal',
      hostname && `--hostname ${hostname}`,
      `--env KAMAL_CONTAINER_NAME="${name}"`,
      `--env KAMAL_VERSION="${config.version}"`,
      `--env KAMAL_HOST="${host}"`,
      config.destination && `--env KAMAL_DESTINATION="${config.destination}"`,
      ...argumentize('--env', env.clear),
      '--env-file',
      this.envFilePath,
      ...this.loggingArgs(),
      ...argumentize('--volume', config.volumes),
      ...this.assetVolumeArgs(),
      ...argumentize('--label', { service: config.service, role: role.name, destination: config.destination, ...role.labels }),
      ...optionize(Object.entries(role.options).filter(([key]) => key !== 'restart')),
      config.absoluteImage,
      role.cmd,
    )
  }

  get restartPolicy(): string {
    const restart = this.role.options.restart
    return restart === undefined || restart === null ? 'unless-stopped' : String(restart)
  }

  loggingArgs(): string[] {
    const logging = this.role.logging
    const driver = logging.driver
    const options = (logging.options ?? {}) as Record<string, unknown>
    if ((driver !== undefined && driver !== null && driver !== '') || Object.keys(options).length > 0) {
      return [...optionize(driver ? { 'log-driver': driver } : {}), ...argumentize('--log-opt', options)]
    }
    return argumentize('--log-opt', { 'max-size': '10m' })
  }

  assetVolumeArgs(version = this.config.version): string[] {
    if (!roleHasAssets(this.role)) return []
    const options = (this.role.assetPath ?? '').split(':').slice(1).join(':')
    const hostPath = `$PWD/${assetVolumeDirectory(this.config, this.role, version)}`
    return ['--volume', [hostPath, assetContainerPath(this.role), options].filter(Boolean).join(':')]
  }

  status(version: string): string {
    return pipe(this.containerIdForVersion(version), xargs(docker('inspect', '--format', HEALTH_STATUS_FORMAT)))
  }

  /** The status of the container by its name: the answer of `status`, asked with one docker command instead of two. */
  statusByName(version: string): string {
    return docker('container', 'inspect', '--format', HEALTH_STATUS_FORMAT, this.containerName(version))
  }

  stop(version?: string): string {
    const source = version ? this.containerIdForVersion(version) : this.currentRunningContainerId()
    return pipe(source, xargs(docker('stop', ...this.stopArgs())))
  }

  /**
   * The stop of one version by its container name: what `stop(version)` does (a missing container
   * fails either way), with one docker command instead of two.
   */
  stopByName(version: string): string {
    return docker('stop', ...this.stopArgs(), this.containerName(version))
  }

  stopArgs(): string[] {
    const timeout = this.role.stopTimeout ?? this.config.stopTimeout ?? (this.role.proxy ? undefined : this.config.drainTimeout)
    return timeout === undefined ? [] : ['-t', String(timeout)]
  }

  /** `running 0 0`, `exited 3 0`, `restarting 3 2` (status, last exit code, restarts): watched while the new container boots, so one that exits fails the boot at once. */
  exitState(version = this.config.version): string {
    return docker('container', 'inspect', '--format', `'{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}'`, this.containerName(version))
  }

  logs(version: string, lines?: number): string {
    return pipe(this.containerIdForVersion(version), xargs(line('docker logs --timestamps', lines !== undefined && `--tail ${lines}`, '2>&1')))
  }

  healthLog(version: string): string {
    return pipe(this.containerIdForVersion(version), xargs(docker('inspect', '--format', `'{{json .State.Health}}'`)))
  }

  private filterArgs(statuses: string[] = []): string[] {
    const { config, role } = this
    return [
      `--filter label=service=${config.service}`,
      `--filter label=destination=${config.destination ?? ''}`,
      `--filter label=role=${role.name}`,
      ...statuses.map((status) => `--filter status=${status}`),
    ]
  }

  private currentRunningContainer(format: string): string {
    const active = this.filterArgs(['running', 'restarting'])
    const fromLatestImage = line(
      'docker ps --latest',
      format,
      ...active,
      `--filter ancestor=$(docker image ls --filter reference=${this.config.latestImage} --format '{{.ID}}')`,
    )
    const newest = line('docker ps --latest', format, ...active)
    return pipe(shell(`${fromLatestImage} ; ${newest}`), 'head -1')
  }

  currentRunningContainerId(): string {
    return this.currentRunningContainer('--quiet')
  }

  currentRunningVersion(): string {
    return pipe(this.currentRunningContainer(`--format '{{.Names}}'`), this.extractVersionFromName())
  }

  /**
   * The running versions, a marker line, then the current running version: the stale-container
   * check's two questions in one exec (read with parseStaleSurvey).
   */
  staleSurvey(): string {
    return `${this.listVersions()}; echo ${STALE_SURVEY_MARKER}; ${this.currentRunningVersion()}`
  }

  /** kamal-proxy's services, a marker, then the role's running containers as `<id> <name>` (read with parseServingVersion). */
  servingSurvey(): string {
    return `${line('docker exec', PROXY_CONTAINER, 'kamal-proxy list')} ; echo ${SERVING_SURVEY_MARKER}; ${line('docker ps', ...this.filterArgs(), '--format', "'{{.ID}} {{.Names}}'")}`
  }

  listVersions(): string {
    return pipe(line('docker ps', ...this.filterArgs(), '--format', '"{{.Names}}"'), this.extractVersionFromName())
  }

  tagLatestImage(): string {
    return docker('tag', this.config.absoluteImage, this.config.latestImage)
  }

  private extractVersionFromName(): string {
    return `while read line; do echo \${line#${this.role.containerPrefix}-}; done`
  }
}
