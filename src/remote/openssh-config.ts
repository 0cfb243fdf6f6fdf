import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import SSHConfig, { LineType, type Line } from 'ssh-config'
import { memoized } from '../memoized'
import { ConfigError, type SourceLocation } from '../errors'

/*
 * OpenSSH client config files read the way Net::SSH::Config (net-ssh 7.3) reads them for a host:
 * first value wins, IdentityFile accumulates, directives before any Host/Match lose to matching
 * blocks, `Match` understands only `all` and `host`, Host patterns are case-insensitive globs.
 * The `ssh-config` package does the lexing; the evaluation below is Net::SSH's.
 */

export const DEFAULT_SSH_CONFIG_FILES = ['~/.ssh/config', '/etc/ssh_config', '/etc/ssh/ssh_config']

export interface Sourced<T> {
  value: T
  location: SourceLocation
}

export type OpenSshProxy = { kind: 'jump'; spec: string } | { kind: 'command'; template: string }

/** The settings of the config files that apply to one host, in Net::SSH's terms. */
export interface OpenSshHostSettings {
  hostName?: Sourced<string>
  user?: Sourced<string>
  port?: Sourced<number>
  identityFiles: Array<Sourced<string>>
  identitiesOnly?: Sourced<boolean>
  proxy?: Sourced<OpenSshProxy>
  connectTimeout?: Sourced<number>
  serverAliveCountMax?: Sourced<number>
  /** SendEnv: names (globs) of local variables sent to the host */
  sendEnv?: Sourced<string[]>
  /** SetEnv: variables set on the host */
  setEnv?: Sourced<Record<string, string>>
}

type Value = string | number | boolean
interface Setting {
  value: Value
  location: SourceLocation
}
interface Settings {
  single: Map<string, Setting>
  identityFiles: Setting[]
}

/*
 * Net::SSH::Config translates these and we do not act on them: refused where they apply, so a
 * config that changes how Kamal would connect is never silently dropped. Directives Net::SSH
 * itself ignores are ignored here too; ForwardAgent, ServerAliveInterval, User and Port of the
 * target are overridden by the options Kamal/sshkit always pass, as in Kamal.
 */
const REFUSED: Record<string, string> = {
  ciphers: 'cipher lists are not configurable here',
  macs: 'MAC lists are not configurable here',
  hostkeyalgorithms: 'host key algorithm lists are not configurable here',
  compression: 'compression is not supported here',
  compressionlevel: 'compression is not supported here',
  certificatefile: 'SSH certificates are not supported here',
  stricthostkeychecking: "host keys are checked against the action's ssh-known-hosts input (pin them there)",
  userknownhostsfile: "host keys are checked against the action's ssh-known-hosts input (pin them there)",
  globalknownhostsfile: "host keys are checked against the action's ssh-known-hosts input (pin them there)",
  hostkeyalias: "host keys are checked against the action's ssh-known-hosts input under the real host name",
  identityagent: 'the agent is the one in SSH_AUTH_SOCK',
  preferredauthentications: 'only public-key authentication is used',
  rekeylimit: 'rekeying limits are not configurable here',
  bindaddress: 'the local bind address is not configurable here',
}
/** Boolean auth switches that are fine when they say what we do anyway (public key only). */
const ACCEPTED_WHEN: Record<string, boolean> = {
  pubkeyauthentication: true,
  passwordauthentication: false,
  kbdinteractiveauthentication: false,
  challengeresponseauthentication: false,
  hostbasedauthentication: false,
}

/** The files `ssh.config` names: true = Net::SSH's defaults, false = none. */
export function sshConfigFiles(setting: boolean | string | string[]): string[] {
  if (setting === true) return DEFAULT_SSH_CONFIG_FILES
  if (setting === false) return []
  return Array.isArray(setting) ? setting : [setting]
}

export function expandHome(file: string): string {
  return file.replace(/^~(?=$|\/)/, os.homedir())
}

/** Net::SSH::Config.for(host, files), refusing what applies to the host and cannot be honoured. */
export function openSshSettingsFor(host: string, files: string[]): OpenSshHostSettings {
  const settings: Settings = { single: new Map(), identityFiles: [] }
  for (const file of files) loadFile(expandHome(file), host, settings)
  const get = (key: string) => settings.single.get(key)
  for (const [key, setting] of settings.single) {
    if (key in REFUSED) throw refusal(key, setting, REFUSED[key])
    if (key in ACCEPTED_WHEN && setting.value !== ACCEPTED_WHEN[key]) throw refusal(key, setting, 'only public-key authentication is used')
  }
  const text = (setting?: Setting) => (setting ? { value: String(setting.value), location: setting.location } : undefined)
  const number = (key: string) => {
    const setting = get(key)
    if (!setting) return undefined
    if (typeof setting.value !== 'number') throw refusal(key, setting, 'it must be a number')
    return { value: setting.value, location: setting.location }
  }
  const hostName = text(get('hostname'))
  const proxySetting = get('proxy')
  let proxy: Sourced<OpenSshProxy> | undefined
  if (proxySetting) {
    const [kind, value] = String(proxySetting.value).split('\u0000')
    if (kind === 'proxycommand' && !/^none$/.test(value)) proxy = { value: { kind: 'command', template: value }, location: proxySetting.location }
    if (kind === 'proxyjump') {
      if (/^none$/i.test(value)) throw refusal('proxyjump', proxySetting, 'Net::SSH does not understand "none" here and would try to jump through a host named none; remove the line')
      proxy = { value: { kind: 'jump', spec: value }, location: proxySetting.location }
    }
  }
  const identitiesOnly = get('identitiesonly')
  const sendEnv = get('sendenv')
  const setEnv = get('setenv')
  return {
    hostName: hostName && { value: hostName.value.replace(/%h/g, host), location: hostName.location },
    user: text(get('user')),
    port: number('port'),
    identityFiles: settings.identityFiles.map((setting) => ({ value: String(setting.value), location: setting.location })),
    identitiesOnly: identitiesOnly && { value: identitiesOnly.value === true, location: identitiesOnly.location },
    proxy,
    connectTimeout: number('connecttimeout'),
    serverAliveCountMax: number('serveralivecountmax'),
    sendEnv: sendEnv && { value: String(sendEnv.value).split(/\s+/).filter(Boolean), location: sendEnv.location },
    setEnv: setEnv && { value: parseSetEnv(String(setEnv.value)), location: setEnv.location },
  }
}

function refusal(key: string, setting: Setting, reason: string): ConfigError {
  return new ConfigError(
    `${setting.location.file}:${setting.location.line}: ${key} ${String(setting.value)} applies to this host but cannot be honoured: ${reason}. Remove it from that block, or set ssh/config: false (or a file without it) in the deploy config.`,
    setting.location,
  )
}

/** A file's lines, lexed once for every host that reads it (each host walks them on its own). */
const lex = memoized((text): Line[] => SSHConfig.parse(text))

/** One file (and its Includes) into `settings`, as Net::SSH::Config.load does. */
function loadFile(file: string, host: string, settings: Settings): void {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return // Net::SSH skips unreadable files
  }
  const globals: Settings = { single: new Map(), identityFiles: [] }
  const state = { blockSeen: false, blockMatched: false }
  const baseDir = path.dirname(file)
  let line = 1
  const visit = (nodes: Line[]) => {
    for (const node of nodes) {
      line += count(node.before)
      if (node.type === LineType.DIRECTIVE) {
        const location = { file, line, column: node.before.length + 1 }
        const key = node.param.toLowerCase()
        const raw = Array.isArray(node.value) ? node.value.map((part) => part.val).join(' ') : node.value
        if (key === 'host') {
          state.blockSeen = true
          state.blockMatched = hostMatches(raw, host)
        } else if (key === 'match') {
          state.blockSeen = true
          state.blockMatched = matchConditions(Array.isArray(node.value) ? node.value.map((part) => part.val) : raw.split(/\s+/), host)
        } else if (!state.blockSeen || state.blockMatched) {
          const target = state.blockSeen ? settings : globals
          if (key === 'include') {
            for (const included of includedFiles(baseDir, raw)) loadFile(included, host, target)
          } else if (key === 'identityfile') {
            target.identityFiles.push({ value: raw, location })
          } else {
            const name = key === 'proxyjump' || key === 'proxycommand' ? 'proxy' : key
            const value = name === 'proxy' ? `${key}\u0000${raw}` : convert(raw)
            // Net::SSH: a block's first value wins; a global is overwritten by a later global.
            if (!settings.single.has(name)) (state.blockSeen ? settings : globals).single.set(name, { value, location })
          }
        }
        if ('config' in node && Array.isArray(node.config)) {
          line += count(node.after)
          visit(node.config)
          continue
        }
      }
      line += count(node.after)
    }
  }
  visit(lex(text))
  for (const [key, setting] of globals.single) if (!settings.single.has(key)) settings.single.set(key, setting)
  settings.identityFiles.unshift(...globals.identityFiles)
}

/** `SetEnv A=1 "B=two words"` (Net::SSH: Shellwords.split, then split at the first =). */
function parseSetEnv(value: string): Record<string, string> {
  const words = [...value.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? match[3])
  return Object.fromEntries(words.filter((word) => word.includes('=')).map((word) => [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)]))
}

/** Local variables whose names match SendEnv's globs (as Net::SSH forwards them). */
export function variablesToSend(patterns: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const regexes = patterns.map(patternRegex)
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && regexes.some((regex) => regex.test(entry[0]))))
}

function count(text: string): number {
  return text.split('\n').length - 1
}

function convert(value: string): Value {
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed)
  if (/^no$/i.test(trimmed)) return false
  if (/^yes$/i.test(trimmed)) return true
  return value
}

function patternRegex(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i')
}

/** `Host a b !c`: a negated match overrules any positive one. */
export function hostMatches(patterns: string, host: string): boolean {
  const list = patterns.split(/\s+/).filter(Boolean)
  if (list.some((pattern) => pattern.startsWith('!') && patternRegex(pattern.slice(1)).test(host))) return false
  return list.some((pattern) => !pattern.startsWith('!') && patternRegex(pattern).test(host))
}

/** Net::SSH evaluates only `all` and `host` criteria; a Match with neither never applies. */
function matchConditions(words: string[], host: string): boolean {
  if (words.length === 1 && words[0].toLowerCase() === 'all') return true
  const results: boolean[] = []
  for (let index = 0; index + 1 < words.length; index += 2) {
    if (words[index].toLowerCase() !== 'host') continue
    let expression = words[index + 1]
    const negated = expression.startsWith('!')
    if (negated) expression = expression.slice(1)
    const met = expression.split(',').some((pattern) => patternRegex(pattern).test(host))
    results.push(negated !== met)
  }
  return results.length > 0 && results.every(Boolean)
}

/** `Include` paths relative to the including file's directory; `*`/`?` in the file name. */
function includedFiles(baseDir: string, value: string): string[] {
  return value
    .split(/\s+/)
    .filter(Boolean)
    .flatMap((entry) => {
      const full = path.resolve(baseDir, expandHome(entry))
      const dir = path.dirname(full)
      const name = path.basename(full)
      if (!/[*?]/.test(name)) return fs.existsSync(full) && fs.statSync(full).isFile() ? [full] : []
      const regex = patternRegex(name)
      const entries = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []
      return entries.map((item) => path.join(dir, item)).filter((item) => regex.test(path.basename(item)) && fs.statSync(item).isFile())
    })
}
