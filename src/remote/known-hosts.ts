import { createHash, createHmac } from 'node:crypto'

/** One usable line of an OpenSSH known_hosts file. */
interface KnownHostEntry {
  patterns: string[]
  /** `|1|salt|hash` entries */
  hashed?: { salt: Buffer; hash: Buffer }
  keyType: string
  key: Buffer
  revoked: boolean
}

/** OpenSSH names a host on a non-standard port `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`
}

/** The key type written at the start of an SSH public key blob. */
export function keyTypeOf(key: Buffer): string {
  const length = key.readUInt32BE(0)
  return key.subarray(4, 4 + length).toString('ascii')
}

export function knownHostsLine(host: string, port: number, key: Buffer): string {
  return `${knownHostsName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}`
}

export class KnownHosts {
  private readonly entries: KnownHostEntry[]

  constructor(text: string) {
    this.entries = text.split('\n').flatMap((line) => parseLine(line))
  }

  get isEmpty(): boolean {
    return this.entries.length === 0
  }

  /** 'match' when a listed key equals the offered one, 'mismatch' when the host is listed with other keys, 'unknown' otherwise. */
  check(host: string, port: number, offered: Buffer): 'match' | 'mismatch' | 'unknown' | 'revoked' {
    const name = knownHostsName(host, port)
    const forHost = this.entries.filter((entry) => matches(entry, name))
    if (forHost.some((entry) => entry.revoked && entry.key.equals(offered))) return 'revoked'
    const usable = forHost.filter((entry) => !entry.revoked)
    if (usable.some((entry) => entry.key.equals(offered))) return 'match'
    return usable.length > 0 ? 'mismatch' : 'unknown'
  }
}

function parseLine(raw: string): KnownHostEntry[] {
  const line = raw.trim()
  if (!line || line.startsWith('#')) return []
  const fields = line.split(/\s+/)
  let revoked = false
  if (fields[0].startsWith('@')) {
    const marker = fields.shift()
    if (marker === '@revoked') revoked = true
    else return [] // @cert-authority: certificates are not supported; such lines pin nothing here
  }
  const [hosts, keyType, keyBase64] = fields
  if (!hosts || !keyType || !keyBase64) return []
  const key = Buffer.from(keyBase64, 'base64')
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|')
    if (salt === undefined || hash === undefined) return []
    return [{ patterns: [], hashed: { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') }, keyType, key, revoked }]
  }
  return [{ patterns: hosts.split(','), keyType, key, revoked }]
}

function matches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    return createHmac('sha1', entry.hashed.salt).update(name).digest().equals(entry.hashed.hash)
  }
  let matched = false
  for (const pattern of entry.patterns) {
    const negated = pattern.startsWith('!')
    const glob = negated ? pattern.slice(1) : pattern
    const regex = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`)
    if (regex.test(name)) {
      if (negated) return false
      matched = true
    }
  }
  return matched
}
