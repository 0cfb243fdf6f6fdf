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
  const read: Reader = { doc, text, origins, locate }
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
}

function toValue(read: Reader, node: Node, path: PathSegment[], keyOrigin?: SourceLocation): unknown {
  const { doc, origins, locate } = read
  const record = (target: Node) => {
    const origin: NodeOrigin = { value: locate(target.range?.[0] ?? 0) }
    if (keyOrigin) origin.key = keyOrigin
    origins.set(path, origin)
  }

  if (isAlias(node)) {
    const target = node.resolve(doc)
    if (!target) throw new ConfigError(`Unknown YAML alias *${node.source}`, locate(node.range?.[0] ?? 0))
    const value = toValue(read, target as Node, path, keyOrigin)
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
    const merged: Array<Record<string, unknown>> = []
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null
      if (keyNode && isScalar(keyNode) && typeof keyNode.value === 'symbol') {
        for (const source of mergeSources(doc, pair.value as Node)) {
          const value = toValue({ ...read, origins: new OriginMap() }, source, path)
          if (value && typeof value === 'object' && !Array.isArray(value)) merged.push(value as Record<string, unknown>)
        }
        continue
      }
      const key = keyNode && isScalar(keyNode) ? String(scalarValue(read, keyNode) ?? '') : String(keyNode ?? '')
      const keyLocation = locate(keyNode?.range?.[0] ?? 0)
      const valueNode = pair.value as Node | null
      if (valueNode) {
        result[key] = toValue(read, valueNode, [...path, key], keyLocation)
      } else {
        result[key] = null
        origins.set([...path, key], { value: keyLocation, key: keyLocation })
      }
    }
    // Explicit keys win over merged ones; among merge sources, earlier ones win.
    for (const source of merged.reverse()) {
      for (const [key, value] of Object.entries(source)) {
        if (!(key in result)) {
          result[key] = value
          if (!origins.get([...path, key])) origins.set([...path, key], { value: locate(node.range?.[0] ?? 0) })
        }
      }
    }
    return result
  }
  return null
}

function mergeSources(doc: Document, node: Node | null): Node[] {
  if (!node) return []
  const resolved = isAlias(node) ? (node.resolve(doc) as Node | undefined) : node
  if (!resolved) return []
  if (isSeq(resolved)) return resolved.items.flatMap((item) => mergeSources(doc, item as Node))
  return [resolved]
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
  return value
}
