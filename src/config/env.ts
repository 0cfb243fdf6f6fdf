import { isHash } from './load'

/** A container environment as Kamal models it: clear values become `--env` flags, secret names go to the env file. */
export interface EnvSpec {
  clear: Record<string, unknown>
  /** `NAME` or `NAME:SECRET_KEY` */
  secret: string[]
}

const SPECIAL_KEYS = ['clear', 'secret', 'tags']

/** Reads either form of `env`: a flat hash (all clear) or `clear`/`secret`/`tags`. */
export function envFromRaw(raw: unknown): EnvSpec {
  if (!isHash(raw)) return { clear: {}, secret: [] }
  const complex = Object.keys(raw).some((key) => SPECIAL_KEYS.includes(key))
  if (!complex) return { clear: { ...raw }, secret: [] }
  return {
    clear: isHash(raw.clear) ? { ...raw.clear } : {},
    secret: Array.isArray(raw.secret) ? raw.secret.map(String) : [],
  }
}

/** Kamal's Env#merge: later clear keys win, secret lists are unioned in order. */
export function mergeEnv(base: EnvSpec, overlay: EnvSpec): EnvSpec {
  return {
    clear: { ...base.clear, ...overlay.clear },
    secret: [...base.secret, ...overlay.secret.filter((name) => !base.secret.includes(name))],
  }
}

/** `NAME:KEY` → { name: NAME, key: KEY }; `NAME` → both NAME. */
export function splitSecretAlias(entry: string): { name: string; key: string } {
  const separator = entry.indexOf(':')
  if (separator < 0) return { name: entry, key: entry }
  return { name: entry.slice(0, separator), key: entry.slice(separator + 1) }
}
