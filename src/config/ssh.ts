import { ConfigError, type SourceLocation } from '../errors'
import { isHash } from './load'
import type { PathSegment } from './yaml-source'

/*
 * Kamal's `ssh:` and `sshkit:` sections as typed settings (Kamal::Configuration::Ssh and
 * ::Sshkit), read once. What Kamal would pass to Net::SSH and then fail on, or silently drop,
 * is refused here at its file:line.
 */

/** One `[user@]host[:port]` of a jump chain, as written (missing parts are resolved later, as OpenSSH does). */
export interface JumpHop {
  user?: string
  host: string
  port?: number
}

export type SshProxySetting =
  /** `ssh.proxy`: Net::SSH::Proxy::Jump; `hops` in the order written */
  | { kind: 'jump'; hops: JumpHop[]; at: PathSegment[] }
  /** `ssh.proxy_command`: Net::SSH::Proxy::Command (`%h`, `%p`, `%%`) */
  | { kind: 'command'; template: string; at: PathSegment[] }

export type KeyDataEntry = { secret: string; at: PathSegment[] } | { inline: string; at: PathSegment[] }

/** `ssh.config`: true = the default OpenSSH files, false = none, else these files. */
export type SshConfigFiles = boolean | string | string[]

export type SshLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'unknown'

export interface SshkitSettings {
  maxConcurrentStarts: number
  /** seconds a pooled connection may stay unused before it is reopened */
  poolIdleTimeout: number
  dnsRetries: number
}

export interface SshConfig {
  user: string
  port: number
  proxy?: SshProxySetting
  /** key files; undefined = not set (Net::SSH then uses ssh config IdentityFile or its default keys) */
  keys?: string[]
  keysOnly?: boolean
  keyData: KeyDataEntry[]
  config: SshConfigFiles
  /** sshkit's default is true; Kamal passes `forward_agent` through when set */
  forwardAgent: boolean
  logLevel: SshLogLevel
  sshkit: SshkitSettings
  /** warnings Kamal prints while reading the section (inline key_data) */
  warnings: string[]
}

type Locate = (at: readonly PathSegment[], options?: { key?: boolean }) => SourceLocation

const INLINE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/
const RUBY_LOG_LEVELS: SshLogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal', 'unknown']

/** `[user@]host[:port]`, host possibly `[v6]`. */
export function parseJumpHop(text: string): JumpHop | undefined {
  const match = /^(?:ssh:\/\/)?(?:([^@\s]+)@)?(\[[^\]\s]+\]|[^:@\s[\]]+)(?::(\d+))?\/?$/.exec(text.trim())
  if (!match) return undefined
  return { user: match[1], host: match[2].replace(/^\[(.*)\]$/, '$1'), port: match[3] ? Number(match[3]) : undefined }
}

/** Net::SSH::Proxy::Jump's chain: comma-separated hops. */
export function parseJumpChain(text: string): JumpHop[] | undefined {
  const hops = text.split(',').map(parseJumpHop)
  return hops.every((hop): hop is JumpHop => hop !== undefined) ? hops : undefined
}

/**
 * The `%` tokens Net::SSH::Proxy::Command substitutes, or the first one it would raise on.
 * Kamal passes Net::SSH no remote user, so `%r` raises "remote user name not available" there.
 */
export function proxyCommandProblem(template: string): string | undefined {
  for (const match of template.matchAll(/%(.)/gs)) {
    const token = match[1]
    if (token === 'h' || token === 'p' || token === '%') continue
    if (token === 'r') return '%r cannot be used: Kamal gives Net::SSH no remote user for it, so Net::SSH stops with "remote user name not available". Write the user name itself.'
    return `%${token} is not a token Net::SSH knows (it stops with "unknown key: ${token}"); only %h (host), %p (port) and %% are substituted. Write %% for a literal %.`
  }
  return undefined
}

export function readSshConfig(raw: Record<string, unknown>, locate: Locate): SshConfig {
  const ssh = isHash(raw.ssh) ? raw.ssh : {}
  const sshkit = isHash(raw.sshkit) ? raw.sshkit : {}
  const refuse = (at: PathSegment[], message: string): never => {
    throw new ConfigError(message, locate(at))
  }
  const given = (key: string) => ssh[key] !== undefined && ssh[key] !== null
  const warnings: string[] = []

  const port = given('port') ? Number(ssh.port) : 22
  if (!Number.isInteger(port) || port < 1 || port > 65535) refuse(['ssh', 'port'], `ssh/port: ${String(ssh.port)} is not a TCP port. Use a number from 1 to 65535, e.g. 22.`)

  let proxy: SshProxySetting | undefined
  if (given('proxy')) {
    if (given('proxy_command')) {
      refuse(['ssh', 'proxy_command'], 'ssh/proxy_command is ignored by Kamal when ssh/proxy is set (proxy wins). Keep one of them: proxy (jump hosts) or proxy_command.')
    }
    const text = String(ssh.proxy)
    // Kamal adds root@ only when the whole value names no user.
    const hops = parseJumpChain(text.includes('@') ? text : `root@${text}`)
    if (!hops) refuse(['ssh', 'proxy'], `ssh/proxy: ${JSON.stringify(text)} is not a jump chain. Write [user@]host[:port], several separated by commas (e.g. root@bastion:2222,app@inner).`)
    proxy = { kind: 'jump', hops: hops as JumpHop[], at: ['ssh', 'proxy'] }
  } else if (given('proxy_command')) {
    const template = String(ssh.proxy_command)
    const problem = proxyCommandProblem(template)
    if (problem) refuse(['ssh', 'proxy_command'], `ssh/proxy_command: ${problem}`)
    if (!template.trim()) refuse(['ssh', 'proxy_command'], 'ssh/proxy_command is empty. Give the command that connects to %h:%p (e.g. cloudflared access ssh --hostname %h), or remove the key.')
    proxy = { kind: 'command', template, at: ['ssh', 'proxy_command'] }
  }

  const keyData: KeyDataEntry[] = (Array.isArray(ssh.key_data) ? ssh.key_data : []).map((entry, index) => {
    const at = ['ssh', 'key_data', index]
    const text = String(entry)
    if (!INLINE_KEY.test(text)) return { secret: text, at }
    warnings.push('Inline key_data usage is deprecated and will be removed in Kamal 3. Please store your key_data in a secret.')
    return { inline: text, at }
  })

  const config: SshConfigFiles = given('config') ? (Array.isArray(ssh.config) ? ssh.config.map(String) : (ssh.config as boolean | string)) : true
  if (Array.isArray(config) && proxy?.kind === 'jump') {
    // Net::SSH::Proxy::Jump writes `ssh -F #{config}`: a list becomes Ruby's inspect text and the jump fails.
    refuse(['ssh', 'config'], 'ssh/config as a list cannot be combined with ssh/proxy: Net::SSH passes it to `ssh -F` as text and the jump fails. Give a single config file path (or true/false).')
  }

  const logLevelText = given('log_level') ? String(ssh.log_level).toLowerCase() : 'fatal'
  const logLevel = (/^[0-5]$/.test(logLevelText) ? RUBY_LOG_LEVELS[Number(logLevelText)] : logLevelText) as SshLogLevel
  if (!RUBY_LOG_LEVELS.includes(logLevel)) refuse(['ssh', 'log_level'], `ssh/log_level: invalid log level ${String(ssh.log_level)}. Use one of ${RUBY_LOG_LEVELS.join(', ')}.`)

  const count = (key: string, fallback: number, min: number): number => {
    const value = sshkit[key]
    if (value === undefined || value === null) return fallback
    const number = Number(value)
    if (!Number.isInteger(number) || number < min) refuse(['sshkit', key], `sshkit/${key}: ${String(value)} must be a whole number of at least ${min}.`)
    return number
  }

  return {
    user: given('user') ? String(ssh.user) : 'root',
    port,
    proxy,
    keys: Array.isArray(ssh.keys) ? ssh.keys.map(String) : undefined,
    keysOnly: typeof ssh.keys_only === 'boolean' ? ssh.keys_only : undefined,
    keyData,
    config,
    forwardAgent: typeof ssh.forward_agent === 'boolean' ? ssh.forward_agent : true,
    logLevel,
    sshkit: {
      maxConcurrentStarts: count('max_concurrent_starts', 30, 1),
      poolIdleTimeout: count('pool_idle_timeout', 900, 0),
      dnsRetries: count('dns_retries', 3, 0),
    },
    warnings,
  }
}
