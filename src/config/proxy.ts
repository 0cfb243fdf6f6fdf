/**
 * One `proxy` block as typed settings (Kamal::Configuration::Proxy and
 * ::Proxy::Run): read once here, so the command builders never look at the
 * YAML hash. For a role the hash is the root `proxy` deep-merged with the
 * role's own; an accessory's `proxy` stands alone, as in Kamal.
 */
import { isHash } from './load'
import { present } from './model'
import type { PathSegment } from './yaml-source'

/** A scalar Kamal passes through to a kamal-proxy flag as written. */
export type ProxyScalar = string | number | boolean

export const DEFAULT_PROXY_IMAGE_VERSION = 'v0.9.2'
export const DEFAULT_LOG_REQUEST_HEADERS: readonly string[] = ['Cache-Control', 'Last-Modified', 'User-Agent']

export interface ProxyConfig {
  /**
   * The effective hash. Only src/config reads it (cross-field rules compare
   * `run` blocks and locate errors); everything else uses the typed fields.
   */
  raw: Record<string, unknown>
  /** where the settings live, for error locations */
  path: PathSegment[]
  /** `hosts`, else `host` split on commas */
  hosts: string[]
  /** `ssl` is set to anything but false (true, or a hash of certificate secrets) */
  ssl: boolean
  /** secret names of a custom certificate, when `ssl` names both */
  certificate?: { certificatePem: string; privateKeyPem: string }
  appPort: ProxyScalar
  healthcheck: { interval?: ProxyScalar; timeout?: ProxyScalar; path?: ProxyScalar }
  responseTimeout?: ProxyScalar
  buffering: { requests: ProxyScalar; responses: ProxyScalar; memory?: ProxyScalar; maxRequestBody?: ProxyScalar; maxResponseBody?: ProxyScalar }
  /** `path_prefixes`, else `path_prefix` split on commas */
  pathPrefixes: string[]
  stripPathPrefix?: ProxyScalar
  forwardHeaders?: ProxyScalar
  sslRedirect?: ProxyScalar
  logging: { requestHeaders: ProxyScalar[]; responseHeaders?: ProxyScalar[] }
  /** `proxy.run`, when present: kamal-proxy's own container settings */
  run?: ProxyRunConfig
}

export interface ProxyRunConfig {
  debug: boolean
  publish: boolean
  httpPort: ProxyScalar
  httpsPort: ProxyScalar
  bindIps?: string[]
  /** `--log-opt max-size=…`; absent when set blank */
  logMaxSize?: string
  /** `<registry>/<repository>:<version>` */
  image: string
  metricsPort?: ProxyScalar
  /** extra `docker run` options */
  options: Record<string, unknown>
  /** Kamal compares run blocks by their hash: equal keys mean the same proxy container */
  identity: string
}

/** The typed settings of one proxy hash (already merged for a role). */
export function proxyConfig(raw: Record<string, unknown>, path: PathSegment[]): ProxyConfig {
  const ssl = raw.ssl
  const healthcheck = hashAt(raw, 'healthcheck')
  const buffering = hashAt(raw, 'buffering')
  const logging = hashAt(raw, 'logging')
  const certificatePem = isHash(ssl) ? ssl.certificate_pem : undefined
  const privateKeyPem = isHash(ssl) ? ssl.private_key_pem : undefined
  return {
    raw,
    path,
    hosts: Array.isArray(raw.hosts) ? raw.hosts.map(String) : present(raw.host) ? String(raw.host).split(',') : [],
    ssl: rubyTruthy(ssl),
    certificate: present(certificatePem) && present(privateKeyPem) ? { certificatePem: String(certificatePem), privateKeyPem: String(privateKeyPem) } : undefined,
    appPort: scalar(raw.app_port) ?? 80,
    healthcheck: { interval: scalar(healthcheck.interval), timeout: scalar(healthcheck.timeout), path: scalar(healthcheck.path) },
    responseTimeout: scalar(raw.response_timeout),
    buffering: {
      requests: scalar(buffering.requests) ?? true,
      responses: scalar(buffering.responses) ?? true,
      memory: scalar(buffering.memory),
      maxRequestBody: scalar(buffering.max_request_body),
      maxResponseBody: scalar(buffering.max_response_body),
    },
    pathPrefixes: Array.isArray(raw.path_prefixes) ? raw.path_prefixes.map(String) : typeof raw.path_prefix === 'string' ? raw.path_prefix.split(',') : [],
    stripPathPrefix: scalar(raw.strip_path_prefix),
    forwardHeaders: scalar(raw.forward_headers),
    sslRedirect: scalar(raw.ssl_redirect),
    logging: {
      requestHeaders: scalars(logging.request_headers) ?? [...DEFAULT_LOG_REQUEST_HEADERS],
      responseHeaders: scalars(logging.response_headers),
    },
    run: present(raw.run) && isHash(raw.run) ? proxyRunConfig(raw.run) : undefined,
  }
}

function proxyRunConfig(run: Record<string, unknown>): ProxyRunConfig {
  const fetch = <T>(key: string, fallback: T): unknown => (key in run ? run[key] : fallback)
  const logMaxSize = fetch('log_max_size', '10m')
  const registry = run.registry
  const repository = fetch('repository', 'basecamp/kamal-proxy')
  const image = [registry, repository].filter((part) => part !== undefined && part !== null).map(String).join('/')
  return {
    debug: rubyTruthy(run.debug),
    publish: rubyTruthy(fetch('publish', true)),
    httpPort: scalar(fetch('http_port', 80)) ?? '',
    httpsPort: scalar(fetch('https_port', 443)) ?? '',
    bindIps: Array.isArray(run.bind_ips) ? run.bind_ips.map(String) : undefined,
    logMaxSize: present(logMaxSize) ? String(logMaxSize) : undefined,
    image: `${image}:${String(scalar(fetch('version', DEFAULT_PROXY_IMAGE_VERSION)) ?? '')}`,
    metricsPort: present(run.metrics_port) ? scalar(run.metrics_port) : undefined,
    options: isHash(run.options) ? run.options : {},
    identity: JSON.stringify(run),
  }
}

function hashAt(raw: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = raw[key]
  return isHash(value) ? value : {}
}

function scalar(value: unknown): ProxyScalar | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : undefined
}

function scalars(value: unknown): ProxyScalar[] | undefined {
  if (!rubyTruthy(value)) return undefined
  const list = Array.isArray(value) ? value : [value]
  return list.map(scalar).filter((item): item is ProxyScalar => item !== undefined)
}

/** Ruby truthiness: only nil and false are false. */
function rubyTruthy(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false
}
