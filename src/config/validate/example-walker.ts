/**
 * Kamal's generic rule: compare a config value with the documented example.
 * Unknown keys are reported first (all at once), then each key is checked in
 * the order the user wrote it, with a handful of keys treated specially.
 */
import { PLACEHOLDER, type ExampleHash, type ExampleValue } from '../examples'
import { unknownKeysHint } from './hints'
import type { IssueCollector, PathSegment } from './issues'
import { isHash } from './ruby-values'
import {
  checkArrayOf,
  checkArrayOrType,
  checkHashOf,
  checkHooksOutput,
  checkHosts,
  checkPaths,
  checkSshConfig,
  checkType,
  type TypeName,
} from './type-checks'

export interface WalkOptions {
  /** Root only: `x-` keys are extensions, neither reported nor checked. */
  allowExtensions?: boolean
  /** Root only: `servers` may also be a list of hosts. */
  isRoot?: boolean
}

function isExtensionKey(key: string): boolean {
  return key.startsWith('x-')
}

function scalarType(example: ExampleValue): TypeName {
  if (typeof example === 'number') return 'integer'
  if (typeof example === 'boolean') return 'boolean'
  if (Array.isArray(example)) return 'array'
  if (isHash(example)) return 'hash'
  return 'string'
}

/** Returns false when the value itself has the wrong type (nothing below it was checked). */
export function checkAgainstExample(
  c: IssueCollector,
  value: unknown,
  example: ExampleValue,
  path: PathSegment[],
  options: WalkOptions = {},
): boolean {
  if (!isHash(example)) {
    return checkType(c, value, [scalarType(example)], path, { sample: example })
  }
  if (!checkType(c, value, ['hash'], path)) return false
  const config = value as Record<string, unknown>

  const knownKeys = Object.keys(example)
  const unknownKeys = Object.keys(config).filter(
    (key) => !Object.prototype.hasOwnProperty.call(example, key) && !(options.allowExtensions && isExtensionKey(key)),
  )
  if (unknownKeys.length > 0) {
    c.add(
      path,
      `unknown ${unknownKeys.length === 1 ? 'key' : 'keys'}: ${unknownKeys.join(', ')}`,
      unknownKeysHint(unknownKeys, knownKeys, options.allowExtensions === true),
      { focus: [...path, unknownKeys[0]], focusKey: true },
    )
  }

  for (const [key, entry] of Object.entries(config)) {
    if (isExtensionKey(key) || !Object.prototype.hasOwnProperty.call(example, key)) continue
    checkEntry(c, key, entry, example[key], [...path, key], options)
  }
  return true
}

function checkEntry(
  c: IssueCollector,
  key: string,
  value: unknown,
  example: ExampleValue,
  path: PathSegment[],
  options: WalkOptions,
): void {
  if (example === PLACEHOLDER) {
    // A nested section validated on its own; here it only has to be a mapping.
    if (key === 'proxy' && typeof value === 'boolean') return
    const types: TypeName[] = key === 'servers' && options.isRoot ? ['array', 'hash'] : ['hash']
    const hint =
      types.length === 2
        ? 'List the hosts (`- 192.168.0.1`) or map role names to their hosts and settings (`web: [192.168.0.1]`).'
        : key === 'proxy'
          ? 'Use true or false, or a mapping of proxy settings (host, app_port, ssl, …).'
          : undefined
    checkType(c, value, types, path, { hint })
  } else if (key === 'ssl') {
    checkType(c, value, ['boolean', 'hash'], path, {
      hint: 'Use `ssl: true` for automatic Let\'s Encrypt certificates, or a mapping with certificate_pem and private_key_pem.',
    })
  } else if (key === 'hooks_output') {
    checkHooksOutput(c, value, path)
  } else if (key === 'hosts') {
    checkHosts(c, value, path)
  } else if (Array.isArray(example)) {
    const itemType = scalarType(example[0])
    if (key === 'arch') {
      checkArrayOrType(c, value, itemType, path, 'Use one platform such as amd64 or arm64, or a list of them (e.g. [amd64, arm64]).')
    } else if (key === 'config') {
      checkSshConfig(c, value, path)
    } else if (key === 'files' || key === 'directories') {
      checkPaths(c, value, path)
    } else {
      checkArrayOf(c, value, itemType, path, { sample: example[0] })
    }
  } else if (isHash(example)) {
    if (key === 'options' || key === 'args') {
      checkType(c, value, ['hash'], path)
    } else if (key === 'labels') {
      checkHashOf(c, value, scalarType(Object.values(example)[0]), path)
    } else {
      checkAgainstExample(c, value, example as ExampleHash, path)
    }
  } else {
    checkType(c, value, [scalarType(example)], path, { sample: example })
  }
}
