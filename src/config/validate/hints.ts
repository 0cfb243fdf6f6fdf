/**
 * Fix-it hints. Kamal's messages say what is wrong; these say what to write.
 */
import type { PathSegment } from './issues'
import { isHash } from './ruby-values'

export type TypeName = 'string' | 'symbol' | 'integer' | 'boolean' | 'hash' | 'array' | 'nil'

/** How the user's value reads in plain words. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value'
  if (Array.isArray(value)) return 'a list'
  if (isHash(value)) return 'a mapping'
  if (typeof value === 'boolean') return `${value}`
  if (typeof value === 'number') return `the number ${value}`
  if (typeof value === 'string') return 'text'
  return 'this value'
}

/** Text that a YAML 1.1 reader would take for something else (a number, a boolean, null). */
const LOOKS_LIKE_NON_STRING = /^(?:[-+]?[\d._]+(?:e[-+]?\d+)?|0x[\da-f_]+|y|n|yes|no|on|off|true|false|null|~)$/i

function formatSample(sample: unknown): string {
  if (Array.isArray(sample)) return `[${sample.map(formatSample).join(', ')}]`
  if (
    typeof sample === 'string' &&
    (sample === '' || LOOKS_LIKE_NON_STRING.test(sample) || /: |[#{}[\],&*!|>'"%@`]|^\s|\s$/.test(sample))
  ) {
    return JSON.stringify(sample)
  }
  return String(sample)
}

/** `key: sample` for a mapping entry, `- sample` for a list item. */
function sampleLine(path: PathSegment[], sample: unknown): string {
  const key = path[path.length - 1]
  return typeof key === 'number' ? `- ${formatSample(sample)}` : `${key ?? 'value'}: ${formatSample(sample)}`
}

function keyName(path: PathSegment[]): string {
  const key = path[path.length - 1]
  return typeof key === 'string' ? `\`${key}\`` : 'this entry'
}

/** A hint for a value of the wrong type, using the documented sample when there is one. */
export function typeHint(types: TypeName[], path: PathSegment[], value: unknown, sample?: unknown): string {
  const instead = `instead of ${describeValue(value)}`
  const example = sample === undefined || isHash(sample) ? '' : `, e.g. \`${sampleLine(path, sample)}\``
  switch (types.join('|')) {
    case 'string':
      return sample === undefined
        ? `Give a single plain value ${instead}; put it in quotes if it contains special characters.`
        : `Give a single plain value ${instead}${example}.`
    case 'integer':
      return `Use a whole number without quotes or units ${instead}${example}.`
    case 'boolean':
      return `Use true or false without quotes ${instead}${example}.`
    case 'hash':
      return `Write ${keyName(path)} as a mapping of indented \`name: value\` lines ${instead}.`
    case 'array': {
      const listExample = sample === undefined ? '' : `, e.g. \`${sampleLine(path, [sample])}\``
      return `Write ${keyName(path)} as a list (one \`- item\` per line, or [a, b]) ${instead}${listExample}.`
    }
    default:
      return `Change the value to one of the accepted forms (${types.join(', ')}) ${instead}.`
  }
}

/** Edits (insert, delete, substitute, swap neighbours) between two words. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
      }
    }
  }
  return d[a.length][b.length]
}

/** The known key closest to a misspelt one, if it is close enough to be a likely typo. */
export function closestKey(unknown: string, known: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of known) {
    const distance = editDistance(unknown.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  const tolerance = Math.max(1, Math.floor(unknown.length / 3))
  return bestDistance <= tolerance ? best : undefined
}

export function unknownKeysHint(unknownKeys: string[], knownKeys: string[], allowsExtensions: boolean): string {
  if (!allowsExtensions && unknownKeys.every((key) => key.startsWith('x-'))) {
    return 'Keys starting with x- are only allowed at the top level of the file; move it there or remove it.'
  }
  const suggestion = unknownKeys.length === 1 ? closestKey(unknownKeys[0], knownKeys) : undefined
  const them = unknownKeys.length === 1 ? 'it' : 'them'
  const fix = suggestion ? `Did you mean \`${suggestion}\`? Otherwise remove it` : `Remove ${them} or check the spelling`
  const extensions = allowsExtensions ? '; keys starting with x- are ignored, for your own anchors' : ''
  return `${fix}; known keys here: ${knownKeys.join(', ')}${extensions}.`
}
