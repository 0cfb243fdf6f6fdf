import { isHash } from '../config/load'
import { DEFAULT_PROXY_IMAGE_VERSION, proxyHostNames, type KamalConfig, type ProxySettings, type Role } from '../config/model'
import { any, argumentize, docker, line, makeDirectory, optionize, pipe } from './base'

export const PROXY_CONTAINER = 'kamal-proxy'
export const PROXY_APPS_DIRECTORY = '.kamal/proxy/apps-config'
export const PROXY_APPS_CONTAINER_DIRECTORY = '/home/kamal-proxy/.apps-config'
const PROXY_CONFIG_VOLUME = '--volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy'
const PROXY_APPS_VOLUME = `--volume $PWD/${PROXY_APPS_DIRECTORY}:${PROXY_APPS_CONTAINER_DIRECTORY}`
const DEFAULT_LOG_REQUEST_HEADERS = ['Cache-Control', 'Last-Modified', 'User-Agent']

const seconds = (value: unknown): string | undefined => (value === undefined || value === null ? undefined : `${value}s`)

/** `docker exec kamal-proxy kamal-proxy deploy <prefix> --target=… …` (spec §2.6), options in Kamal's order. */
export function proxyDeploy(config: KamalConfig, role: Role, containerId: string): string {
  const proxy = role.proxy as ProxySettings
  const raw = proxy.raw
  const dig = (section: string, key: string): unknown => (isHash(raw[section]) ? (raw[section] as Record<string, unknown>)[key] : undefined)
  const ssl = raw.ssl
  const customCertificate = isHash(ssl) && Boolean(ssl.certificate_pem) && Boolean(ssl.private_key_pem)
  const tlsDirectory = `${PROXY_APPS_CONTAINER_DIRECTORY}/${config.serviceAndDestination}/tls/${role.name}`
  const buffering = isHash(raw.buffering) ? raw.buffering : {}
  const pathPrefixes = Array.isArray(raw.path_prefixes) ? raw.path_prefixes : typeof raw.path_prefix === 'string' ? raw.path_prefix.split(',') : []
  const options: Array<[string, unknown]> = [
    ['target', `${containerId}:${raw.app_port ?? 80}`],
    ['host', proxyHostNames(proxy)],
    ['tls', ssl ? true : undefined],
    ['tls-certificate-path', customCertificate ? `${tlsDirectory}/cert.pem` : undefined],
    ['tls-private-key-path', customCertificate ? `${tlsDirectory}/key.pem` : undefined],
    ['deploy-timeout', seconds(config.deployTimeout)],
    ['drain-timeout', seconds(config.drainTimeout)],
    ['health-check-interval', seconds(dig('healthcheck', 'interval'))],
    ['health-check-timeout', seconds(dig('healthcheck', 'timeout'))],
    ['health-check-path', dig('healthcheck', 'path')],
    ['target-timeout', seconds(raw.response_timeout)],
    ['buffer-requests', buffering.requests ?? true],
    ['buffer-responses', buffering.responses ?? true],
    ['buffer-memory', buffering.memory],
    ['max-request-body', buffering.max_request_body],
    ['max-response-body', buffering.max_response_body],
    ['path-prefix', pathPrefixes],
    ['strip-path-prefix', raw.strip_path_prefix],
    ['forward-headers', raw.forward_headers],
    ['tls-redirect', raw.ssl_redirect],
    ['log-request-header', dig('logging', 'request_headers') ?? DEFAULT_LOG_REQUEST_HEADERS],
    ['log-response-header', dig('logging', 'response_headers')],
    ['error-pages', config.errorPagesPath ? `${PROXY_APPS_CONTAINER_DIRECTORY}/${config.serviceAndDestination}/error_pages/${config.version}` : undefined],
  ]
  const present = options.filter(([, value]) => value !== undefined && value !== null)
  return line('docker exec', PROXY_CONTAINER, 'kamal-proxy deploy', role.containerPrefix, ...optionize(present, { equals: true }))
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

export const ensureProxyAppsDirectory = (): string => makeDirectory(PROXY_APPS_DIRECTORY)

/** The `proxy.run` settings in force on a host (all roles on it must agree), if any. */
export function proxyRunFor(config: KamalConfig, host: string): Record<string, unknown> | undefined {
  for (const role of config.roles) {
    if (role.hosts.includes(host) && role.proxy && isHash(role.proxy.raw.run)) return role.proxy.raw.run
  }
  return undefined
}

/** `docker run … kamal-proxy` (spec §2.5): explicit with `proxy.run`, else Kamal's boot-config files form. */
export function proxyRun(config: KamalConfig, host: string): string {
  const run = proxyRunFor(config, host)
  const base = line('docker run --name', PROXY_CONTAINER, '--network kamal --detach --restart unless-stopped', PROXY_CONFIG_VOLUME)
  if (!run) return pipe(legacyBootConfig(), `xargs ${base} ${PROXY_APPS_VOLUME}`)

  const httpPort = run.http_port ?? 80
  const httpsPort = run.https_port ?? 443
  const publish = run.publish !== false
    ? (Array.isArray(run.bind_ips) ? run.bind_ips.map(String) : [undefined]).map((ip) => {
        const bind = ip && ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip
        return line('--publish', [bind, httpPort, 80].filter((part) => part !== undefined).join(':'), '--publish', [bind, httpsPort, 443].filter((part) => part !== undefined).join(':'))
      }).join(' ')
    : undefined
  const logMaxSize = run.log_max_size ?? '10m'
  const metricsPort = run.metrics_port
  const image = `${[run.registry, run.repository ?? 'basecamp/kamal-proxy'].filter((part) => part !== undefined && part !== null).join('/')}:${run.version ?? DEFAULT_PROXY_IMAGE_VERSION}`
  const runCommand = line('kamal-proxy run', ...optionize([['debug', run.debug ? true : undefined], ['metrics-port', metricsPort]].filter(([, value]) => value !== undefined) as Array<[string, unknown]>))
  return line(
    base,
    PROXY_APPS_VOLUME,
    publish,
    logMaxSize ? argumentize('--log-opt', [`max-size=${logMaxSize}`]).join(' ') : undefined,
    metricsPort !== undefined && `--expose=${metricsPort}`,
    ...(isHash(run.options) ? optionize(run.options) : []),
    image,
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

