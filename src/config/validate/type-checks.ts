/**
 * The shared building blocks of Kamal's validator: type checks with Kamal's
 * wording ("should be a string or a hash"), lists and mappings of a type,
 * host lists, accessory file/directory lists and a few special-cased keys.
 *
 * Every check reports through the collector and returns whether the value
 * passed, so callers stop descending into a value Kamal would have rejected.
 */
import { typeHint, type TypeName } from './hints'
import type { IssueCollector, PathSegment } from './issues'
import { isHash } from './ruby-values'

export type { TypeName }

/** Kamal accepts numbers, booleans and symbols wherever a string is expected. */
function isStringish(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
}

export function isValidType(value: unknown, type: TypeName): boolean {
  switch (type) {
    case 'string':
      return isStringish(value)
    case 'symbol':
      return false // Ruby symbols arrive as strings, which 'string' already accepts
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value)
    case 'boolean':
      return typeof value === 'boolean'
    case 'hash':
      return isHash(value)
    case 'array':
      return Array.isArray(value)
    case 'nil':
      return value === null || value === undefined
  }
}

function typeDescription(type: TypeName): string {
  switch (type) {
    case 'integer':
    case 'array':
      return `an ${type}`
    case 'nil':
      return 'a nilclass'
    default:
      return `a ${type}`
  }
}

export function typeErrorMessage(types: TypeName[]): string {
  return `should be ${[...new Set(types.map(typeDescription))].join(' or ')}`
}

export interface TypeCheckOptions {
  /** a documented value to show in the hint */
  sample?: unknown
  /** a hint that fits better than the generic one */
  hint?: string
}

export function checkType(
  c: IssueCollector,
  value: unknown,
  types: TypeName[],
  path: PathSegment[],
  options: TypeCheckOptions = {},
): boolean {
  if (types.some((type) => isValidType(value, type))) return true
  c.add(path, typeErrorMessage(types), options.hint ?? typeHint(types, path, value, options.sample))
  return false
}

export function checkArrayOf(
  c: IssueCollector,
  value: unknown,
  type: TypeName,
  path: PathSegment[],
  options: TypeCheckOptions = {},
): boolean {
  if (!checkType(c, value, ['array'], path, options)) return false
  let valid = true
  ;(value as unknown[]).forEach((item, index) => {
    if (!checkType(c, item, [type], [...path, index], { sample: options.sample })) valid = false
  })
  return valid
}

export function checkHashOf(
  c: IssueCollector,
  value: unknown,
  type: TypeName,
  path: PathSegment[],
  options: TypeCheckOptions = {},
): boolean {
  if (!checkType(c, value, ['hash'], path, options)) return false
  let valid = true
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (!checkType(c, item, [type], [...path, key])) valid = false
  }
  return valid
}

/** A single value of `type` or a list of them; one combined error either way. */
export function checkArrayOrType(
  c: IssueCollector,
  value: unknown,
  type: TypeName,
  path: PathSegment[],
  hint: string,
): boolean {
  const valid = Array.isArray(value) ? value.every((item) => isValidType(item, type)) : isValidType(value, type)
  if (!valid) c.add(path, typeErrorMessage(['array', type]), hint)
  return valid
}

const HOST_ENTRY_HINT =
  'Write each entry as a host name or IP (`- 192.168.0.1`) or as one host with its tags (`- 192.168.0.2: [tag1, tag2]`).'

/** A host list: plain hosts, or single-key mappings of host to tag(s). */
export function checkHosts(c: IssueCollector, value: unknown, path: PathSegment[]): boolean {
  if (!checkType(c, value, ['array'], path, { hint: `Write ${describeKey(path)} as a list of hosts, e.g. \`- 192.168.0.1\`.` })) {
    return false
  }
  let valid = true
  ;(value as unknown[]).forEach((entry, index) => {
    const entryPath = [...path, index]
    if (!checkType(c, entry, ['string', 'hash'], entryPath, { hint: HOST_ENTRY_HINT })) {
      valid = false
      return
    }
    if (!isHash(entry)) return
    const pairs = Object.entries(entry)
    if (pairs.length !== 1) {
      c.add(entryPath, 'multiple hosts found', 'Put each host on its own list line (`- host: tag`); one list entry may name only one host.')
      valid = false
      return
    }
    const [host, tags] = pairs[0]
    const tagsHint = `Give the host one tag or a list of tags, e.g. \`- ${host}: [tag1, tag2]\`.`
    if (!checkType(c, tags, ['string', 'array'], [...entryPath, host], { hint: tagsHint })) {
      valid = false
    } else if (Array.isArray(tags) && !checkArrayOf(c, tags, 'string', [...entryPath, host])) {
      valid = false
    }
  })
  return valid
}

const PATH_ENTRY_KEYS = ['local', 'remote', 'mode', 'owner', 'options']

/** Accessory `files` / `directories`: `local:remote[:options]` strings or mappings. */
export function checkPaths(c: IssueCollector, value: unknown, path: PathSegment[]): boolean {
  const listHint = 'Write it as a list of `local:remote[:options]` entries or mappings with local, remote, mode, owner and options.'
  if (!checkType(c, value, ['array'], path, { hint: listHint })) return false
  let valid = true
  ;(value as unknown[]).forEach((entry, index) => {
    const entryPath = [...path, index]
    if (!checkType(c, entry, ['string', 'hash'], entryPath, { hint: listHint })) {
      valid = false
      return
    }
    if (!isHash(entry)) return
    for (const key of PATH_ENTRY_KEYS) {
      if (!Object.prototype.hasOwnProperty.call(entry, key)) continue
      const sample = key === 'mode' ? '0644' : undefined
      if (!checkType(c, entry[key], ['string'], [...entryPath, key], { sample })) valid = false
    }
  })
  return valid
}

/** ssh `config`: true/false, one config file path, or a list of paths. */
export function checkSshConfig(c: IssueCollector, value: unknown, path: PathSegment[]): boolean {
  if (Array.isArray(value)) return checkArrayOf(c, value, 'string', path)
  // A single path must be real text here; numbers are not accepted.
  if (typeof value === 'boolean' || typeof value === 'string') return true
  c.add(
    path,
    typeErrorMessage(['boolean', 'string', 'array']),
    'Use true (load the default OpenSSH config files), false, a config file path, or a list of paths.',
  )
  return false
}

/** `hooks_output`: one level for all hooks, or a mapping of hook name to level. */
export function checkHooksOutput(c: IssueCollector, value: unknown, path: PathSegment[]): boolean {
  const hint = 'Use quiet or verbose, or a mapping of hook name to quiet/verbose (e.g. `pre-deploy: verbose`).'
  if (!isHash(value)) return checkType(c, value, ['string', 'symbol'], path, { hint })
  let valid = true
  for (const [hook, level] of Object.entries(value)) {
    if (!checkType(c, level, ['string', 'symbol'], [...path, hook], { hint })) valid = false
  }
  return valid
}

function describeKey(path: PathSegment[]): string {
  const key = path[path.length - 1]
  return typeof key === 'string' ? `\`${key}\`` : 'this entry'
}
