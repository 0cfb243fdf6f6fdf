/**
 * Kamal's config ERB (`ERB.new(template, trim_mode: "-").result`), with a map
 * from every rendered offset back to the template so later YAML and validation
 * errors can point at the line the user wrote.
 *
 * The subset Kamal configs mostly use (spec §6.1: ENV, ENV.fetch, backticks,
 * Kamal::Utils.docker_arch) is evaluated here, exactly. A template with any
 * other tag (`<% if … %>`, `==`, method calls) is rendered by Ruby's own ERB
 * when `ruby` is on PATH (erb-ruby.ts), as Kamal would; without Ruby it stops
 * with an error at that tag's `<%`.
 */
import { spawnSync } from 'child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { ConfigError } from '../errors'
import { renderWithRuby, type RenderedSegment } from './erb-ruby'

export interface ErbContext {
  /** path shown in errors (relative to the repo) */
  file: string
  /** where shell-outs run (the project directory) */
  cwd: string
  /** ENV seen by the template */
  env: NodeJS.ProcessEnv
  /** Kamal::Utils.docker_arch; the default asks the local Docker daemon */
  dockerArch?: () => string
  /** the Ruby that renders templates beyond the subset; default: `ruby` on env.PATH; null: none */
  ruby?: string | null
}

export interface RenderedTemplate {
  text: string
  /** maps a 0-based offset in `text` to the 1-based line/column in the template; offsets inside a tag's output map to the tag's `<%` */
  sourcePosition(offset: number): { line: number; column: number }
}

const SUPPORTED_FORMS =
  'without Ruby, supported are ENV["X"], ENV.fetch("X"[, "default"]), `command`, %x(command), Kamal::Utils.docker_arch'
const WORKFLOW_HINT = 'Compute the value in an earlier workflow step and pass it with ENV["…"].'
const NO_RUBY_HINT =
  'Ruby would render it as Kamal does, but no `ruby` is on PATH: add a Ruby setup step (GitHub\'s Ubuntu runners ship Ruby), or compute the value in an earlier workflow step and pass it with ENV["…"].'

/** A problem inside one tag; renderErb attaches the tag's location. */
class TagError extends Error {}

// ---------------------------------------------------------------------------
// Scanning: Ruby ERB's ExplicitScanner (trim_mode "-")
// ---------------------------------------------------------------------------

type TemplatePiece =
  | { kind: 'text'; start: number; end: number }
  | { kind: 'output' | 'code'; tagStart: number; code: string; source: string }

interface UnclosedTag {
  tagStart: number
  opener: string
}

/**
 * Splits the template into verbatim text and tags, applying the "-" trim rules:
 * `<%-` preceded only by blanks since a line start drops those blanks, and
 * `-%>` swallows one following newline. Comment tags vanish, `<%%` yields `<%`.
 */
function scanTemplate(template: string): TemplatePiece[] | UnclosedTag {
  const pieces: TemplatePiece[] = []
  const pushText = (start: number, end: number): void => {
    if (end > start) pieces.push({ kind: 'text', start, end })
  }
  let pos = 0
  while (pos < template.length) {
    const open = template.indexOf('<%', pos)
    if (open < 0) {
      pushText(pos, template.length)
      break
    }
    const marker = template[open + 2]
    let textEnd = open
    if (marker === '-') {
      let blanksStart = open
      while (blanksStart > pos && (template[blanksStart - 1] === ' ' || template[blanksStart - 1] === '\t')) {
        blanksStart--
      }
      // Ruby matches `^[ \t]*<%-` with a StringScanner whose anchors are
      // relative to where the previous scan stopped, so `^` holds right after a
      // `%>` or `<%%` too, not only after a newline: "a<%= x %>  <%- y %>" loses
      // the two blanks in Ruby, and here.
      if (blanksStart === pos || template[blanksStart - 1] === '\n') textEnd = blanksStart
    }
    pushText(pos, textEnd)

    if (marker === '%') {
      pushText(open, open + 2)
      pos = open + 3
      continue
    }
    const opener = marker === '-' || marker === '=' || marker === '#' ? `<%${marker}` : '<%'
    const closing = findTagEnd(template, open + opener.length)
    if (!closing) return { tagStart: open, opener }
    pos = closing.next
    if (marker === '#') continue
    pieces.push({
      kind: marker === '=' ? 'output' : 'code',
      tagStart: open,
      code: closing.code,
      source: template.slice(open, closing.next),
    })
  }
  return pieces
}

/** Finds the tag's `%>`: `%%>` inside a tag is a literal `%>`, `-%>` also eats one newline. */
function findTagEnd(template: string, from: number): { code: string; next: number } | undefined {
  let code = ''
  let i = from
  while (i < template.length) {
    if (template.startsWith('-%>', i)) {
      i += 3
      if (template.startsWith('\r\n', i)) i += 2
      else if (template[i] === '\n') i += 1
      return { code, next: i }
    }
    if (template.startsWith('%%>', i)) {
      code += '%>'
      i += 3
      continue
    }
    if (template.startsWith('%>', i)) return { code, next: i + 2 }
    code += template[i]
    i++
  }
  return undefined
}

// ---------------------------------------------------------------------------
// Expressions: parse every tag before running anything (Ruby compiles the
// whole template first, so a bad tag late in the file stops all shell-outs).
// ---------------------------------------------------------------------------

/** Literal text and `#{ENV["X"]}` interpolations, in order. */
type StringParts = Array<string | { envKey: string }>

type Expression =
  | { type: 'env'; key: StringParts }
  | { type: 'fetch'; key: StringParts; fallback?: Expression }
  | { type: 'shell'; command: StringParts }
  | { type: 'dockerArch' }
  | { type: 'string'; parts: StringParts }
  | { type: 'method'; name: 'strip' | 'chomp'; receiver: Expression }

const INTERPOLATED_ENV = /^\s*ENV\[\s*(?:"([^"\\#]*)"|'([^'\\]*)')\s*\]\s*$/
const PERCENT_X_CLOSERS: Record<string, string> = { '(': ')', '{': '}', '[': ']' }

class ExpressionParser {
  private pos = 0

  constructor(private readonly code: string) {}

  parse(): Expression {
    const expression = this.parseChain()
    this.skipSpace()
    if (this.pos !== this.code.length) throw this.unsupported()
    return expression
  }

  /** A primary value followed by any number of `.strip` / `.chomp`. */
  private parseChain(): Expression {
    this.skipSpace()
    let expression = this.parsePrimary()
    for (;;) {
      const saved = this.pos
      this.skipSpace()
      const call = /^\.(strip|chomp)(?![\w!?])(?:\(\s*\))?/.exec(this.rest())
      if (!call) {
        this.pos = saved
        return expression
      }
      this.pos += call[0].length
      expression = { type: 'method', name: call[1] as 'strip' | 'chomp', receiver: expression }
    }
  }

  private parsePrimary(): Expression {
    const rest = this.rest()
    if (rest.startsWith('ENV[')) {
      this.pos += 4
      const key = this.parseStringLiteral()
      this.expect(']')
      return { type: 'env', key }
    }
    const fetch = /^ENV\.fetch\s*\(/.exec(rest)
    if (fetch) {
      this.pos += fetch[0].length
      const key = this.parseStringLiteral()
      this.skipSpace()
      let fallback: Expression | undefined
      if (this.code[this.pos] === ',') {
        this.pos++
        fallback = this.parseChain()
      }
      this.expect(')')
      return { type: 'fetch', key, fallback }
    }
    if (/^Kamal::Utils\.docker_arch(?![\w!?(])/.test(rest)) {
      this.pos += 'Kamal::Utils.docker_arch'.length
      return { type: 'dockerArch' }
    }
    if (rest.startsWith('`')) {
      this.pos++
      return { type: 'shell', command: this.parseInterpolated('`') }
    }
    const percentX = /^%x([({[])/.exec(rest)
    if (percentX) {
      this.pos += 3
      return { type: 'shell', command: this.parseInterpolated(PERCENT_X_CLOSERS[percentX[1]], percentX[1]) }
    }
    if (rest.startsWith('"') || rest.startsWith("'")) return { type: 'string', parts: this.parseStringLiteral() }
    throw this.unsupported()
  }

  private parseStringLiteral(): StringParts {
    this.skipSpace()
    const quote = this.code[this.pos]
    if (quote === '"') {
      this.pos++
      return this.parseInterpolated('"')
    }
    if (quote === "'") {
      this.pos++
      return [this.parseSingleQuoted()]
    }
    throw this.unsupported()
  }

  private parseSingleQuoted(): string {
    let text = ''
    while (this.pos < this.code.length) {
      const ch = this.code[this.pos]
      if (ch === "'") {
        this.pos++
        return text
      }
      if (ch === '\\' && (this.code[this.pos + 1] === "'" || this.code[this.pos + 1] === '\\')) {
        text += this.code[this.pos + 1]
        this.pos += 2
        continue
      }
      text += ch
      this.pos++
    }
    throw this.unsupported()
  }

  /** Body of a double-quoted string, backtick command or %x literal (nesting `opener`/`closer` pairs). */
  private parseInterpolated(closer: string, opener?: string): StringParts {
    const parts: StringParts = []
    let text = ''
    let depth = 0
    while (this.pos < this.code.length) {
      const ch = this.code[this.pos]
      if (ch === '\\') {
        text += this.readEscape()
        continue
      }
      if (ch === '#' && this.code[this.pos + 1] === '{') {
        const end = this.code.indexOf('}', this.pos + 2)
        const body = end < 0 ? this.code.slice(this.pos + 2) : this.code.slice(this.pos + 2, end)
        const env = INTERPOLATED_ENV.exec(body)
        if (end < 0 || !env) {
          throw new TagError(
            `Unsupported interpolation \`#{${body}}\` in ERB expression \`${displayCode(this.code)}\`: only #{ENV["X"]} is supported inside strings and commands. ${WORKFLOW_HINT}`,
          )
        }
        if (text) parts.push(text)
        text = ''
        parts.push({ envKey: env[1] ?? env[2] })
        this.pos = end + 1
        continue
      }
      if (ch === '#' && /^[$@][^\s]/.test(this.code.slice(this.pos + 1, this.pos + 3))) {
        throw new TagError(
          `Unsupported interpolation \`${this.code.slice(this.pos, this.pos + 3)}…\` in ERB expression \`${displayCode(this.code)}\`: only #{ENV["X"]} is supported (write \\# for a literal #). ${WORKFLOW_HINT}`,
        )
      }
      this.pos++
      if (ch === opener) depth++
      if (ch === closer) {
        if (depth === 0) {
          if (text) parts.push(text)
          return parts
        }
        depth--
      }
      text += ch
    }
    throw this.unsupported()
  }

  /** A backslash escape in a double-quoted context, as Ruby reads it. */
  private readEscape(): string {
    const rest = this.code.slice(this.pos + 1)
    const simple: Record<string, string> = {
      n: '\n', t: '\t', r: '\r', s: ' ', e: '\x1b', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '',
    }
    const next = rest.codePointAt(0)
    if (next === undefined) throw this.unsupported()
    const ch = String.fromCodePoint(next)
    const octal = /^[0-7]{1,3}/.exec(rest)
    const hex = /^x([0-9a-fA-F]{1,2})/.exec(rest)
    const unicode = /^u(?:([0-9a-fA-F]{4})|\{\s*([0-9a-fA-F]{1,6}(?:\s+[0-9a-fA-F]{1,6})*)\s*\})/.exec(rest)
    let consumed = ch.length
    let value: string
    if (simple[ch] !== undefined) value = simple[ch]
    else if (octal) [value, consumed] = [String.fromCharCode(parseInt(octal[0], 8) & 0xff), octal[0].length]
    else if (hex) [value, consumed] = [String.fromCharCode(parseInt(hex[1], 16)), hex[0].length]
    else if (unicode) {
      const codePoints = (unicode[1] ?? unicode[2]).split(/\s+/).map((digits) => parseInt(digits, 16))
      ;[value, consumed] = [String.fromCodePoint(...codePoints), unicode[0].length]
    } else if ('xucCM'.includes(ch)) {
      throw new TagError(
        `Unsupported escape \`\\${rest.slice(0, 2)}\` in ERB expression \`${displayCode(this.code)}\`. ${WORKFLOW_HINT}`,
      )
    } else value = ch
    this.pos += 1 + consumed
    return value
  }

  private expect(token: string): void {
    this.skipSpace()
    if (this.code[this.pos] !== token) throw this.unsupported()
    this.pos++
  }

  private skipSpace(): void {
    while (this.pos < this.code.length && /\s/.test(this.code[this.pos])) this.pos++
  }

  private rest(): string {
    return this.code.slice(this.pos)
  }

  private unsupported(): TagError {
    return new TagError(`Unsupported ERB expression \`${displayCode(this.code)}\`: ${SUPPORTED_FORMS}. ${WORKFLOW_HINT}`)
  }
}

/** One line, trimmed and bounded, for messages and annotations. */
function displayCode(code: string): string {
  const oneLine = code.trim().replace(/\s*\n\s*/g, ' ')
  return oneLine.length > 120 ? `${oneLine.slice(0, 117)}...` : oneLine
}

function parseTag(piece: Extract<TemplatePiece, { kind: 'output' | 'code' }>): Expression | undefined {
  if (piece.kind === 'code') {
    if (piece.code.trim() === '') return undefined
    throw new TagError(
      `Unsupported ERB tag \`${displayCode(piece.source)}\`: without Ruby, only <%= … %> output tags, <%# comments %> and <%% are supported, not Ruby code such as conditionals, loops or assignments. ${WORKFLOW_HINT}`,
    )
  }
  return new ExpressionParser(piece.code).parse()
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

/** A Ruby value our expressions can produce: a String or nil (a missing ENV["X"]). */
type RubyValue = string | null

const RUBY_WHITESPACE = '\0\t\n\v\f\r '

function rubyStrip(value: string): string {
  let start = 0
  let end = value.length
  while (start < end && RUBY_WHITESPACE.includes(value[start])) start++
  while (end > start && RUBY_WHITESPACE.includes(value[end - 1])) end--
  return value.slice(start, end)
}

function rubyChomp(value: string): string {
  if (value.endsWith('\r\n')) return value.slice(0, -2)
  if (value.endsWith('\n') || value.endsWith('\r')) return value.slice(0, -1)
  return value
}

/**
 * Runs a command as Ruby's backticks would (via `sh -c`, in the project
 * directory, with the template's ENV) and returns its stdout untouched,
 * trailing newline included.
 *
 * Deliberate deviation: Ruby ignores the exit status and inserts whatever was
 * printed, so a failing command silently yields partial or empty config. We
 * stop with an error naming the command and its status instead. stdin is not
 * inherited, so a command waiting for input fails instead of hanging the job.
 */
function runShell(command: string, ctx: ErbContext): string {
  const result = spawnSync('sh', ['-c', command], {
    cwd: ctx.cwd,
    env: ctx.env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.error) throw new TagError(`Could not run \`${command}\` in ${ctx.cwd}: ${result.error.message}`)
  if (result.status !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `failed with exit status ${result.status}`
    const stderr = result.stderr.trim()
    throw new TagError(`Command \`${command}\` ${how}${stderr ? `: ${stderr}` : ''}`)
  }
  return result.stdout
}

/** Kamal::Utils.docker_arch: the local Docker daemon's architecture in Docker's platform naming. */
function defaultDockerArch(ctx: ErbContext): string {
  const arch = rubyStrip(runShell("docker info --format '{{.Architecture}}'", ctx))
  if (arch.includes('aarch64')) return 'arm64'
  if (arch.includes('x86_64')) return 'amd64'
  return arch
}

class Evaluator {
  constructor(private readonly ctx: ErbContext) {}

  evaluate(expression: Expression): RubyValue {
    switch (expression.type) {
      case 'env':
        return this.ctx.env[this.interpolate(expression.key)] ?? null
      case 'fetch': {
        const key = this.interpolate(expression.key)
        // Ruby evaluates the default argument whether or not the key is set.
        const fallback = expression.fallback && this.evaluate(expression.fallback)
        const value = this.ctx.env[key]
        if (value !== undefined) return value
        if (expression.fallback) return fallback ?? null
        throw new TagError(
          `key not found: ${JSON.stringify(key)} — ENV.fetch(${JSON.stringify(key)}) needs ${key} to be set: add it to the step's \`env:\` (or give ENV.fetch a default)`,
        )
      }
      case 'shell':
        return runShell(this.interpolate(expression.command), this.ctx)
      case 'dockerArch':
        return this.dockerArch()
      case 'string':
        return this.interpolate(expression.parts)
      case 'method': {
        const receiver = this.evaluate(expression.receiver)
        if (receiver === null) {
          throw new TagError(
            `\`.${expression.name}\` was called on nil (Ruby: undefined method '${expression.name}' for nil): ${describeNilSource(expression.receiver)} is not set. Set it in the step's \`env:\` or use ENV.fetch("X", "default").`,
          )
        }
        return expression.name === 'strip' ? rubyStrip(receiver) : rubyChomp(receiver)
      }
    }
  }

  private dockerArch(): string {
    if (!this.ctx.dockerArch) return defaultDockerArch(this.ctx)
    try {
      return this.ctx.dockerArch()
    } catch (error) {
      throw new TagError(`Kamal::Utils.docker_arch failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  private interpolate(parts: StringParts): string {
    return parts.map((part) => (typeof part === 'string' ? part : (this.ctx.env[part.envKey] ?? ''))).join('')
  }
}

function describeNilSource(expression: Expression): string {
  if (expression.type === 'env') {
    const key = expression.key.map((part) => (typeof part === 'string' ? part : `#{ENV["${part.envKey}"]}`)).join('')
    return `ENV[${JSON.stringify(key)}]`
  }
  if (expression.type === 'fetch') return 'the ENV.fetch default'
  return 'the value'
}

// ---------------------------------------------------------------------------
// Positions
// ---------------------------------------------------------------------------

function lineStartsOf(template: string): number[] {
  const starts = [0]
  for (let i = 0; i < template.length; i++) if (template[i] === '\n') starts.push(i + 1)
  return starts
}

/** Index of the last element of a sorted array that is <= target (0 if none). */
function lastAtOrBefore<T>(items: readonly T[], target: number, key: (item: T) => number): number {
  let low = 0
  let high = items.length - 1
  let found = 0
  while (low <= high) {
    const mid = (low + high) >> 1
    if (key(items[mid]) <= target) {
      found = mid
      low = mid + 1
    } else high = mid - 1
  }
  return found
}

function positionIn(lineStarts: readonly number[], offset: number): { line: number; column: number } {
  const index = lastAtOrBefore(lineStarts, offset, (start) => start)
  return { line: index + 1, column: offset - lineStarts[index] + 1 }
}

// ---------------------------------------------------------------------------

export function renderErb(template: string, ctx: ErbContext): RenderedTemplate {
  const lineStarts = lineStartsOf(template)
  const errorAt = (offset: number, message: string): ConfigError =>
    new ConfigError(message, { file: ctx.file, ...positionIn(lineStarts, offset) })

  const scanned = scanTemplate(template)
  if (!Array.isArray(scanned)) {
    throw errorAt(
      scanned.tagStart,
      `Unclosed ERB tag: \`${scanned.opener}\` has no matching \`%>\` (write <%% for a literal <%)`,
    )
  }

  let unsupported: { tagStart: number; message: string } | undefined
  const parsed = scanned.map((piece) => {
    if (piece.kind === 'text') return { piece, expression: undefined }
    try {
      return { piece, expression: parseTag(piece) }
    } catch (error) {
      if (!(error instanceof TagError)) throw error
      unsupported ??= { tagStart: piece.tagStart, message: error.message }
      return { piece, expression: undefined }
    }
  })
  if (unsupported) {
    const ruby = ctx.ruby === undefined ? findOnPath('ruby', ctx.env.PATH) : ctx.ruby
    if (!ruby) throw errorAt(unsupported.tagStart, `${unsupported.message.replace(` ${WORKFLOW_HINT}`, '')} ${NO_RUBY_HINT}`)
    return renderTemplateWithRuby(template, scanned, ctx, ruby, lineStarts, errorAt)
  }

  const evaluator = new Evaluator(ctx)
  const segments: RenderedSegment[] = []
  let text = ''
  for (const { piece, expression } of parsed) {
    let output: string
    let segment: RenderedSegment
    if (piece.kind === 'text') {
      output = template.slice(piece.start, piece.end)
      segment = { outStart: text.length, templateStart: piece.start, fromTag: false }
    } else {
      if (!expression) continue
      try {
        output = evaluator.evaluate(expression) ?? ''
      } catch (error) {
        if (error instanceof TagError) throw errorAt(piece.tagStart, error.message)
        throw error
      }
      segment = { outStart: text.length, templateStart: piece.tagStart, fromTag: true }
    }
    if (output === '') continue
    segments.push(segment)
    text += output
  }

  return { text, sourcePosition: positionMapper(text, segments, lineStarts, template.length) }
}

function positionMapper(text: string, segments: readonly RenderedSegment[], lineStarts: readonly number[], templateLength: number, beforeFirst = 0) {
  return (offset: number): { line: number; column: number } => {
    if (offset >= text.length || segments.length === 0) return positionIn(lineStarts, templateLength)
    const target = Math.max(0, Math.floor(offset))
    if (target < segments[0].outStart) return positionIn(lineStarts, beforeFirst)
    const segment = segments[lastAtOrBefore(segments, target, (s) => s.outStart)]
    if (segment.fromTag) return positionIn(lineStarts, segment.templateStart)
    const distance = target - segment.outStart
    if (segment.copied === undefined || distance < segment.copied) return positionIn(lineStarts, segment.templateStart + distance)
    return positionIn(lineStarts, segment.tagAfter ?? segment.templateStart + segment.copied)
  }
}

function renderTemplateWithRuby(
  template: string,
  scanned: TemplatePiece[],
  ctx: ErbContext,
  ruby: string,
  lineStarts: number[],
  errorAt: (offset: number, message: string) => ConfigError,
): RenderedTemplate {
  const tagStarts = scanned.flatMap((piece) => (piece.kind === 'text' ? [] : [piece.tagStart]))
  let dockerArch: string | undefined
  const archTag = scanned.find((piece) => piece.kind !== 'text' && piece.code.includes('docker_arch'))
  if (ctx.dockerArch && archTag && archTag.kind !== 'text') {
    try {
      dockerArch = ctx.dockerArch()
    } catch (error) {
      throw errorAt(archTag.tagStart, `Kamal::Utils.docker_arch failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  const result = renderWithRuby({
    template,
    pieces: scanned.map((piece) => (piece.kind === 'text' ? piece : { kind: 'tag' as const, tagStart: piece.tagStart })),
    file: ctx.file,
    cwd: ctx.cwd,
    env: ctx.env,
    ruby,
    dockerArch,
  })
  if (!result.ok) {
    const hint = result.message.startsWith('KeyError') ? " Set the variable in the step's `env:` (or give ENV.fetch a default)." : ' Fix the ERB on this line.'
    const message = `ERB error (rendered with Ruby, as Kamal does): ${result.message}.${hint}`
    if (result.line === undefined || result.line < 1 || result.line > lineStarts.length) throw errorAt(tagStarts[0] ?? 0, message)
    const lineStart = lineStarts[result.line - 1]
    const lineEnd = result.line < lineStarts.length ? lineStarts[result.line] : template.length + 1
    const tagOnLine = tagStarts.find((start) => start >= lineStart && start < lineEnd)
    throw errorAt(tagOnLine ?? lineStart, message)
  }
  return {
    text: result.text,
    sourcePosition: positionMapper(result.text, result.segments, lineStarts, template.length, tagStarts[0] ?? 0),
  }
}

/** The first executable `name` in a PATH string, as a shell would find it. */
function findOnPath(name: string, searchPath: string | undefined): string | null {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (!dir) continue
    const candidate = path.join(dir, name)
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      if (fs.statSync(candidate).isFile()) return candidate
    } catch {
      // not here
    }
  }
  return null
}
