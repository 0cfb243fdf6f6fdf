import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ConfigError } from '../errors'
import { envFromRaw, splitSecretAlias, type EnvSpec } from './env'
import { renderErb } from './erb'
import { isHash } from './load'
import { present, type Accessory, type KamalConfig } from './model'
import { proxyConfig, type ProxyConfig } from './proxy'

/**
 * Everything Kamal derives from one `accessories.<name>` block
 * (Kamal::Configuration::Accessory), on top of the placement that
 * KamalConfig.accessories already computed.
 */
export interface AccessorySettings {
  name: string
  /** container name and `service` label: `service`, else `<svc>-<name>` */
  service: string
  hosts: string[]
  /** the image, prefixed with the accessory's own registry server when it has one */
  image: string
  registry?: AccessoryRegistry
  /** `--publish` value: `3306` becomes `3306:3306` */
  port?: string
  network: string
  /** `service` first, then the configured labels */
  labels: Record<string, unknown>
  env: EnvSpec
  files: AccessoryFile[]
  directories: AccessoryDirectory[]
  /** the accessory's own `volumes` entries, as written */
  volumes: string[]
  /** `docker run` options without `restart` */
  options: Record<string, unknown>
  restartPolicy: string
  cmd?: string
  /** the accessory's own `proxy` (not merged with the root proxy, as in Kamal) */
  proxy?: ProxyConfig
}

export interface AccessoryRegistry {
  server?: string
  /** a literal, or a one-element list naming a secret */
  username: unknown
  password: unknown
  /** `localhost:<port>`: no login */
  local: boolean
}

export interface AccessoryFile {
  /** the local path as written in the config */
  local: string
  /** absolute local path (ERB templates are read from here too) */
  localPath: string
  /** Kamal renders a file through ERB when its name ends in `erb` */
  erb: boolean
  /** where it goes on the host, relative to the SSH home: `<service><remote>` */
  hostPath: string
  containerPath: string
  options?: string
  /** `chmod` argument after the upload; `755` unless the hash form sets `mode` */
  mode: string
  owner?: string
}

export interface AccessoryDirectory {
  /** what `mkdir -p`/`chmod`/`chown` act on: absolute as written, else `$PWD/<service>/<local>` */
  hostDirectory: string
  /** the volume's host side: absolute as written, else `<service>/<local>` (mounted as `$PWD/…`) */
  volumeHostPath: string
  containerPath: string
  options?: string
  mode?: string
  owner?: string
}

const DEFAULT_NETWORK = 'kamal'
const DEFAULT_FILE_MODE = '755'

/** The settings of one accessory, by name or from KamalConfig.accessories. */
export function accessorySettings(config: KamalConfig, accessory: Accessory | string, projectDir: string): AccessorySettings {
  const found = typeof accessory === 'string' ? config.accessories.find((item) => item.name === accessory) : accessory
  if (!found) {
    const names = config.accessories.map((item) => item.name)
    throw new ConfigError(`No accessory by the name of '${String(accessory)}'${names.length > 0 ? ` (options: ${names.join(', ')})` : ''}`)
  }
  const raw = found.raw
  const service = found.service
  const registryRaw = isHash(raw.registry) && Object.keys(raw.registry).length > 0 ? raw.registry : undefined
  const registry: AccessoryRegistry | undefined = registryRaw && {
    server: present(registryRaw.server) ? String(registryRaw.server) : undefined,
    username: registryRaw.username,
    password: registryRaw.password,
    local: /^localhost[:$]/.test(present(registryRaw.server) ? String(registryRaw.server) : ''),
  }
  const options = isHash(raw.options) ? raw.options : {}
  const restart = Object.entries(options).find(([key]) => key === 'restart')?.[1]
  const port = raw.port === undefined || raw.port === null ? undefined : String(raw.port)

  return {
    name: found.name,
    service,
    hosts: found.hosts,
    image: [registry?.server, raw.image === undefined || raw.image === null ? undefined : String(raw.image)].filter((part) => part !== undefined).join('/'),
    registry,
    port: port === undefined ? undefined : port.includes(':') ? port : `${port}:${port}`,
    network: raw.network === undefined || raw.network === null ? DEFAULT_NETWORK : String(raw.network),
    labels: { service, ...(isHash(raw.labels) ? raw.labels : {}) },
    env: envFromRaw(raw.env),
    files: uniqueBy(listOf(raw.files).map((entry, index) => parseFile(entry, service, projectDir, index))),
    directories: uniqueBy(listOf(raw.directories).map((entry) => parseDirectory(entry, service))),
    volumes: Array.isArray(raw.volumes) ? raw.volumes.map(String) : [],
    options: Object.fromEntries(Object.entries(options).filter(([key]) => key !== 'restart')),
    restartPolicy: restart === undefined || restart === null || restart === false ? 'unless-stopped' : String(restart),
    cmd: raw.cmd === undefined || raw.cmd === null ? undefined : String(raw.cmd),
    proxy: accessoryProxy(found),
  }
}

/** The accessory's `proxy` block, typed; undefined unless it runs behind kamal-proxy (Kamal's running_proxy?). */
export function accessoryProxy(accessory: Accessory): ProxyConfig | undefined {
  const proxy = accessory.raw.proxy
  return present(proxy) && isHash(proxy) ? proxyConfig(proxy, ['accessories', accessory.name, 'proxy']) : undefined
}

/** Kamal's `Env#to_h` for the accessory: clear values, then each secret under its (aliased) name. */
export function accessoryEnvValues(settings: AccessorySettings, secretValue: (key: string) => string): Record<string, string> {
  const values: Record<string, string> = {}
  for (const [name, value] of Object.entries(settings.env.clear)) values[name] = value === undefined || value === null ? '' : String(value)
  for (const entry of settings.env.secret) {
    const { name, key } = splitSecretAlias(entry)
    values[name] = secretValue(key)
  }
  return values
}

export interface AccessoryFileContext {
  /** project directory: ERB shell-outs run here, errors name paths relative to it */
  projectDir: string
  /** the environment the template sees under the accessory's own values (normally process.env) */
  env: NodeJS.ProcessEnv
  /** the accessory the file belongs to: its env (clear and secret) is the template's ENV, as in Kamal */
  accessory: AccessorySettings
  /** a secret's value by name (the run's secrets) */
  secretValue: (key: string) => string
}

/**
 * The bytes to upload for one accessory file: the file itself, or for a name
 * ending in `erb` the template rendered as Kamal's `with_env_loaded` does:
 * ENV is the runner's environment with the accessory's `Env#to_h` (clear
 * values and aliased secrets) laid over it, so `<%= ENV["DB_PASSWORD"] %>`
 * gives the secret. The result can hold secrets: never log it.
 * A missing file is Kamal's `Missing file: <local>`.
 */
export function accessoryFileContent(file: AccessoryFile, context: AccessoryFileContext): Buffer {
  if (!fs.existsSync(file.localPath) || !fs.statSync(file.localPath).isFile()) {
    throw new ConfigError(`Missing file: ${file.local}. Commit it, or fix the path under accessories files (paths are relative to the project directory).`)
  }
  const content = fs.readFileSync(file.localPath)
  if (!file.erb) return content
  const relative = path.relative(context.projectDir, file.localPath) || file.local
  const rendered = renderErb(content.toString('utf8'), {
    file: relative.startsWith('..') ? file.localPath : relative,
    cwd: context.projectDir,
    env: { ...context.env, ...accessoryEnvValues(context.accessory, context.secretValue) },
  })
  return Buffer.from(rendered.text, 'utf8')
}

// ---------------------------------------------------------------------------

interface PathEntry {
  local: string
  remote: string
  options?: string
  mode?: string
  owner?: string
  fromHash: boolean
}

function parsePathEntry(entry: unknown): PathEntry {
  if (isHash(entry)) {
    return {
      local: String(entry.local ?? ''),
      remote: String(entry.remote ?? ''),
      options: optionalString(entry.options),
      mode: optionalString(entry.mode),
      owner: optionalString(entry.owner),
      fromHash: true,
    }
  }
  // Ruby's split(":", 3): at most three parts, the last keeps any further colons.
  const text = String(entry)
  const first = text.indexOf(':')
  const local = first < 0 ? text : text.slice(0, first)
  const rest = first < 0 ? undefined : text.slice(first + 1)
  const second = rest === undefined ? -1 : rest.indexOf(':')
  const remote = rest === undefined ? '' : second < 0 ? rest : rest.slice(0, second)
  const options = rest === undefined || second < 0 ? undefined : rest.slice(second + 1)
  return { local, remote, options: options === '' ? undefined : options, fromHash: false }
}

function parseFile(entry: unknown, service: string, projectDir: string, index: number): AccessoryFile & { key: string } {
  const parsed = parsePathEntry(entry)
  const erb = parsed.local.endsWith('erb')
  const localPath = path.resolve(projectDir, expandHome(parsed.local))
  return {
    // Kamal keys files by expanded path (ERB files by their rendered text object, so never merged).
    key: erb ? `\0erb ${index}` : localPath,
    local: parsed.local,
    localPath,
    erb,
    hostPath: service + parsed.remote,
    containerPath: parsed.remote,
    options: parsed.options,
    mode: parsed.mode ?? DEFAULT_FILE_MODE,
    owner: parsed.owner,
  }
}

function parseDirectory(entry: unknown, service: string): AccessoryDirectory & { key: string } {
  const parsed = parsePathEntry(entry)
  const absolute = parsed.local.startsWith('/')
  const hostDirectory = absolute ? parsed.local : fileJoin(`$PWD/${service}`, parsed.local)
  return {
    key: hostDirectory,
    hostDirectory,
    volumeHostPath: absolute ? parsed.local : fileJoin(service, parsed.local),
    containerPath: parsed.remote,
    options: parsed.options,
    mode: parsed.mode,
    owner: parsed.owner,
  }
}

/** Ruby's `to_h`: a later entry with the same key replaces the earlier one in the earlier one's place. */
function uniqueBy<T extends { key: string }>(entries: T[]): Array<Omit<T, 'key'>> {
  const byKey = new Map<string, T>()
  for (const entry of entries) byKey.set(entry.key, entry)
  return [...byKey.values()].map(({ key: _key, ...rest }) => rest)
}

/** Ruby's File.join: one separator between parts, nothing else normalised. */
export function fileJoin(...parts: string[]): string {
  return parts.reduce((joined, part) => {
    if (joined.endsWith('/') && part.startsWith('/')) return joined + part.replace(/^\/+/, '')
    if (joined.endsWith('/') || part.startsWith('/')) return joined + part
    return `${joined}/${part}`
  })
}

function expandHome(local: string): string {
  if (local === '~') return os.homedir()
  if (local.startsWith('~/')) return path.join(os.homedir(), local.slice(2))
  return local
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

function optionalString(value: unknown): string | undefined {
  return value === undefined || value === null || value === '' ? undefined : String(value)
}
