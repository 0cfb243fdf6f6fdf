import { accessoryProxy } from '../config/accessory'
import type { KamalConfig, Role } from '../config/model'
import { DEFAULT_PROXY_IMAGE_VERSION, type ProxyConfig, type ProxyRunConfig } from '../config/proxy'
import { any, argumentize, docker, line, makeDirectory, optionize, pipe } from './base'

export const PROXY_CONTAINER = 'kamal-proxy'
export const PROXY_APPS_DIRECTORY = '.kamal/proxy/apps-config'
export const PROXY_APPS_CONTAINER_DIRECTORY = '/home/kamal-proxy/.apps-config'
const PROXY_CONFIG_VOLUME = '--volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy'
const PROXY_APPS_VOLUME = `--volume $PWD/${PROXY_APPS_DIRECTORY}:${PROXY_APPS_CONTAINER_DIRECTORY}`

/** Kamal's seconds_duration: `<n>s`, nothing for nil/false. */
const seconds = (value: unknown): string | undefined => (value === undefined || value === null || value === false ? undefined : `${value}s`)

/** `docker exec kamal-proxy kamal-proxy deploy <prefix> --target=… …` (spec §2.6), options in Kamal's order. */
export function proxyDeploy(config: KamalConfig, role: Role, containerId: string): string {
  return proxyDeployCommand(config, role.proxy as ProxyConfig, { service: role.containerPrefix, tlsRole: role.name }, containerId)
}

/**
 * The deploy command for one proxy block: a role's (service `<svc>-<role>`,
 * TLS files under `tls/<role>/`) or an accessory's (its service name, TLS
 * files directly under `tls/`, as Kamal's role-less proxy has them).
 */
export function proxyDeployCommand(config: KamalConfig, proxy: ProxyConfig, target: { service: string; tlsRole?: string }, containerId: string): string {
  const tlsDirectory = [`${PROXY_APPS_CONTAINER_DIRECTORY}/${config.serviceAndDestination}/tls`, target.tlsRole].filter(Boolean).join('/')
  const { healthcheck, buffering } = proxy
  const options: Array<[string, unknown]> = [
    ['target', `${containerId}:${proxy.appPort}`],
    ['host', proxy.hosts],
    ['tls', proxy.ssl ? true : undefined],
    ['tls-certificate-path', proxy.certificate ? `${tlsDirectory}/cert.pem` : undefined],
    ['tls-private-key-path', proxy.certificate ? `${tlsDirectory}/key.pem` : undefined],
    ['deploy-timeout', seconds(config.deployTimeout)],
    ['drain-timeout', seconds(config.drainTimeout)],
    ['health-check-interval', seconds(healthcheck.interval)],
    ['health-check-timeout', seconds(healthcheck.timeout)],
    ['health-check-path', healthcheck.path],
    ['target-timeout', seconds(proxy.responseTimeout)],
    ['buffer-requests', buffering.requests],
    ['buffer-responses', buffering.responses],
    ['buffer-memory', buffering.memory],
    ['max-request-body', buffering.maxRequestBody],
    ['max-response-body', buffering.maxResponseBody],
    ['path-prefix', proxy.pathPrefixes],
    ['strip-path-prefix', proxy.stripPathPrefix],
    ['forward-headers', proxy.forwardHeaders],
    ['tls-redirect', proxy.sslRedirect],
    ['log-request-header', proxy.logging.requestHeaders],
    ['log-response-header', proxy.logging.responseHeaders],
    ['error-pages', config.errorPagesPath ? `${PROXY_APPS_CONTAINER_DIRECTORY}/${config.serviceAndDestination}/error_pages/${config.version}` : undefined],
  ]
  const present = options.filter(([, value]) => value !== undefined && value !== null)
  return line('docker exec', PROXY_CONTAINER, 'kamal-proxy deploy', target.service, ...optionize(present, { equals: true }))
}

export function proxyRemove(role: Role): string {
  return line('docker exec', PROXY_CONTAINER, 'kamal-proxy remove', role.containerPrefix)
}

export function proxyStop(role: Role, drainTimeout: number, message?: string): string {
  const options: Array<[string, unknown]> = [['drain-timeout', seconds(drainTimeout)]]
  if (message) options.push(['message', message])
  return line('docker exec', PROXY_CONTAINER, 'kamal-proxy stop', role.containerPrefix, ...optionize(options, { equals: true }))
}

export function proxyResume(role: Role): string {
  return line('docker exec', PROXY_CONTAINER, 'kamal-proxy resume', role.containerPrefix)
}

export const createNetwork = (): string => docker('network', 'create', 'kamal')

export const proxyImageVersion = (): string => pipe(docker('inspect', PROXY_CONTAINER, `--format '{{.Config.Image}}'`), `awk -F: '{print $NF}'`)

/** Whether kamal-proxy runs, and its image: `true basecamp/kamal-proxy:v0.9.2` (nothing when there is no such container). */
export const proxyVersionAndState = (): string => docker('inspect', PROXY_CONTAINER, `--format '{{.State.Running}} {{.Config.Image}}'`)

export const ensureProxyAppsDirectory = (): string => makeDirectory(PROXY_APPS_DIRECTORY)

/**
 * The `proxy.run` settings in force on a host, if any: from the roles and
 * proxied accessories on it (Kamal's proxy_runs; the rules make them agree).
 */
export function proxyRunFor(config: KamalConfig, host: string): ProxyRunConfig | undefined {
  const onHost = (item: { hosts: string[] }) => item.hosts.includes(host)
  const proxies = [...config.roles.filter(onHost).map((role) => role.proxy), ...config.accessories.filter(onHost).map(accessoryProxy)]
  return proxies.find((proxy) => proxy?.run)?.run
}

/** `docker run … kamal-proxy` (spec §2.5): explicit with `proxy.run`, else Kamal's boot-config files form. */
export function proxyRun(config: KamalConfig, host: string): string {
  const run = proxyRunFor(config, host)
  const base = line('docker run --name', PROXY_CONTAINER, '--network kamal --detach --restart unless-stopped', PROXY_CONFIG_VOLUME)
  if (!run) return pipe(legacyBootConfig(), `xargs ${base} ${PROXY_APPS_VOLUME}`)

  const publish = run.publish
    ? (run.bindIps ?? [undefined]).map((ip) => {
        const bind = ip && ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip
        return line('--publish', [bind, run.httpPort, 80].filter((part) => part !== undefined).join(':'), '--publish', [bind, run.httpsPort, 443].filter((part) => part !== undefined).join(':'))
      }).join(' ')
    : undefined
  const runCommand = line('kamal-proxy run', ...optionize([['debug', run.debug ? true : undefined], ['metrics-port', run.metricsPort]].filter(([, value]) => value !== undefined) as Array<[string, unknown]>))
  return line(
    base,
    PROXY_APPS_VOLUME,
    publish,
    run.logMaxSize ? argumentize('--log-opt', [`max-size=${run.logMaxSize}`]).join(' ') : undefined,
    run.metricsPort !== undefined && `--expose=${run.metricsPort}`,
    ...optionize(run.options),
    run.image,
    runCommand,
  )
}

function legacyBootConfig(): string {
  const read = (file: string, fallback: string) => `$(${any(`cat .kamal/proxy/${file} 2> /dev/null`, `echo "${fallback}"`)})`
  return line(
    'echo',
    `${read('options', '--publish 80:80 --publish 443:443 --log-opt max-size=10m')} ${read('image', 'basecamp/kamal-proxy')}:${read('image_version', DEFAULT_PROXY_IMAGE_VERSION)} ${read('run_command', '')}`,
  )
}

/** `docker container start kamal-proxy || docker run …`: an existing proxy keeps its flags. */
export function proxyStartOrRun(config: KamalConfig, host: string): string {
  return any(docker('container', 'start', PROXY_CONTAINER), proxyRun(config, host))
}

