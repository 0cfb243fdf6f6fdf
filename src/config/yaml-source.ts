import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Document, type Node } from 'yaml'
import { ConfigError, type SourceLocation } from '../errors'

export type PathSegment = string | number

/** Where a value (and, for map entries, its key) was written. */
export interface NodeOrigin {
  value: SourceLocation
  key?: SourceLocation
}

/** A YAML file loaded the way Kamal loads it (Psych, YAML 1.1), with the origin of every value. */
export interface SourcedYaml {
  value: unknown
  origins: OriginMap
}

export class OriginMap {
  private readonly byPath = new Map<string, NodeOrigin>()

  static keyOf(path: readonly PathSegment[]): string {
    return JSON.stringify(path)
  }

  set(path: readonly PathSegment[], origin: NodeOrigin): void {
    this.byPath.set(OriginMap.keyOf(path), origin)
  }

  get(path: readonly PathSegment[]): NodeOrigin | undefined {
    return this.byPath.get(OriginMap.keyOf(path))
  }

  /** Copies the origins of `prefix` and everything below it from another map. */
  copySubtree(from: OriginMap, prefix: readonly PathSegment[]): void {
    for (const [key, origin] of from.byPath) if (OriginMap.isWithin(key, prefix)) this.byPath.set(key, origin)
  }

  deleteSubtree(prefix: readonly PathSegment[]): void {
    for (const key of [...this.byPath.keys()]) if (OriginMap.isWithin(key, prefix)) this.byPath.delete(key)
  }

  private static isWithin(key: string, prefix: readonly PathSegment[]): boolean {
    const own = OriginMap.keyOf(prefix)
    return key === own || key.startsWith(`${own.slice(0, -1)},`)
  }

  /** The origin of the path, or of its nearest ancestor that has one. */
  nearest(path: readonly PathSegment[]): { origin: NodeOrigin; exact: boolean } | undefined {
    for (let length = path.length; length >= 0; length--) {
      const origin = this.get(path.slice(0, length))
      if (origin) return { origin, exact: length === path.length }
    }
    return undefined
  }
}

export type PositionMapper = (offset: number) => { line: number; column: number }

// Psych turns an unquoted `:name` into a Symbol; its to_s is the bare name.
const RUBY_SYMBOL = /^:[A-Za-z_][A-Za-z0-9_]*[?!]?$/

/**
 * Parses rendered YAML text. `positionOf` maps offsets in the rendered text back
 * to the template the user wrote (ERB may have changed lengths).
 */
export function loadSourcedYaml(text: string, file: string, positionOf?: PositionMapper): SourcedYaml {
  const lineCounter = new LineCounter()
  const locate = (offset: number): SourceLocation => {
    if (positionOf) return { file, ...positionOf(offset) }
    const { line, col } = lineCounter.linePos(offset)
    return { file, line, column: col }
  }
  const doc = parseDocument(text, { version: '1.1', merge: true, lineCounter, prettyErrors: false, uniqueKeys: false })
  const problem = doc.errors[0]
  if (problem) {
    const where = locate(problem.pos[0])
    const summary = problem.message.split('\n')[0]
    throw new ConfigError(`YAML syntax error in ${file}: ${summary}. Fix the indentation or quoting on this line.`, where)
  }
  const origins = new OriginMap()
  const read: Reader = { doc, text, origins, locate, expansion: { active: new Set(), values: 0, targets: new Map() } }
  const value = doc.contents ? toValue(read, doc.contents as Node, []) : null
  if (doc.contents) origins.set([], { value: locate((doc.contents as Node).range?.[0] ?? 0) })
  else origins.set([], { value: locate(0) })
  return { value: value ?? {}, origins }
}

interface Reader {
  doc: Document
  text: string
  origins: OriginMap
  locate: (offset: number) => SourceLocation
  /** alias targets being expanded (a cycle is refused) and how many values were built (aliases can multiply them) */
  expansion: { active: Set<Node>; values: number; targets: Map<Node, Node | undefined> }
}

/** Far above any real deploy config; stops alias bombs before they exhaust memory. */
const MAX_VALUES = 50_000

function toValue(read: Reader, node: Node, path: PathSegment[], keyOrigin?: SourceLocation): unknown {
  const { doc, origins, locate } = read
  const record = (target: Node) => {
    const origin: NodeOrigin = { value: locate(target.range?.[0] ?? 0) }
    if (keyOrigin) origin.key = keyOrigin
    origins.set(path, origin)
  }

  if (++read.expansion.values > MAX_VALUES) {
    throw new ConfigError(
      `YAML aliases in this file expand to more than ${MAX_VALUES} values. Write the repeated settings out or share fewer nested anchors.`,
      locate(node.range?.[0] ?? 0),
    )
  }
  if (isAlias(node)) {
    // Alias#resolve searches the whole document; an alias inside an anchor is met many times.
    if (!read.expansion.targets.has(node)) read.expansion.targets.set(node, node.resolve(doc) as Node | undefined)
    const target = read.expansion.targets.get(node)
    if (!target) throw new ConfigError(`Unknown YAML alias *${node.source}`, locate(node.range?.[0] ?? 0))
    if (read.expansion.active.has(target)) {
      throw new ConfigError(`The YAML alias *${node.source} refers to a value that contains it, which never ends. Remove the alias from inside its own anchor.`, locate(node.range?.[0] ?? 0))
    }
    read.expansion.active.add(target)
    const value = toValue(read, target, path, keyOrigin)
    read.expansion.active.delete(target)
    record(node)
    return value
  }
  if (isScalar(node)) {
    record(node)
    return scalarValue(read, node)
  }
  if (isSeq(node)) {
    record(node)
    return node.items.map((item, index) => toValue(read, item as Node, [...path, index]))
  }
  if (isMap(node)) {
    record(node)
    const result: Record<string, unknown> = {}
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null
      const valueNode = pair.value as Node | null
      if (keyNode && isScalar(keyNode) && typeof keyNode.value === 'symbol') {
        if (mergeInto(read, result, valueNode, path)) continue
      }
      const key = keyNode && isScalar(keyNode) ? (typeof keyNode.value === 'symbol' ? '<<' : String(scalarValue(read, keyNode) ?? '')) : String(keyNode ?? '')
      const keyLocation = locate(keyNode?.range?.[0] ?? 0)
      if (valueNode) {
        result[key] = toValue(read, valueNode, [...path, key], keyLocation)
      } else {
        result[key] = null
        origins.set([...path, key], { value: keyLocation, key: keyLocation })
      }
    }
    return result
  }
  return null
}

/**
 * A `<<:` entry as Psych reads it: the merged hash overwrites keys written
 * before it (later keys overwrite it in turn), and among a list of sources the
 * earlier wins. Each merged value keeps the origin where it is written (in the
 * anchor), so errors point there. A source that is not a hash makes Psych keep
 * `<<` as an ordinary key: returns false and the caller does that.
 */
function mergeInto(read: Reader, result: Record<string, unknown>, valueNode: Node | null, path: PathSegment[]): boolean {
  const sources = mergeSources(valueNode)
  if (!sources || sources.length === 0) return false
  const loaded = sources.map((source) => {
    const origins = new OriginMap()
    return { value: toValue({ ...read, origins }, source, path), origins }
  })
  if (!loaded.every((source) => isPlainHash(source.value))) return false
  // Psych merges the list back to front, so keys come in that order.
  for (const key of new Set([...loaded].reverse().flatMap((source) => Object.keys(source.value as object)))) {
    const winner = loaded.find((source) => key in (source.value as object)) as (typeof loaded)[number]
    result[key] = (winner.value as Record<string, unknown>)[key]
    read.origins.deleteSubtree([...path, key])
    read.origins.copySubtree(winner.origins, [...path, key])
  }
  return true
}

/** The nodes a `<<:` value merges: a map, an alias to one, or a list of those; undefined for anything else. */
function mergeSources(node: Node | null): Node[] | undefined {
  if (!node) return undefined
  if (isAlias(node) || isMap(node)) return [node]
  if (isSeq(node)) return node.items.map((item) => item as Node)
  return undefined
}

function isPlainHash(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// YAML 1.1 lists y/n as booleans, but Psych (and so Kamal) reads them as strings.
const PSYCH_STRINGS = new Set(['y', 'Y', 'n', 'N'])

function scalarValue(read: Reader, node: Scalar): unknown {
  const value = node.value
  if (node.type === Scalar.PLAIN && node.range) {
    const source = read.text.slice(node.range[0], node.range[1])
    if (PSYCH_STRINGS.has(source)) return source
  }
  if (typeof value === 'string' && node.type === Scalar.PLAIN && RUBY_SYMBOL.test(value)) return value.slice(1)
  if (typeof value === 'bigint') return Number(value)
  if (value instanceof Date) return node.source ?? value.toISOString()
  // !!binary: Psych yields the decoded bytes as a String.
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8')
  return value
}
