/**
 * The one place that turns values into shell text. Every remote and local
 * command line is assembled from tokens produced here, so quoting rules match
 * Kamal's byte for byte (Kamal::Utils.escape_shell_value, Shellwords.escape).
 */

const RUBY_DUMP_NAMED: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\f': '\\f',
  '\v': '\\v',
  '\b': '\\b',
  '\x07': '\\a',
  '\x1b': '\\e',
}

/** Ruby's String#dump body (no surrounding quotes) for an ASCII-only string. */
function rubyDumpAsciiBody(value: string): string {
  let out = ''
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]
    const code = ch.charCodeAt(0)
    if (RUBY_DUMP_NAMED[ch] !== undefined) {
      out += RUBY_DUMP_NAMED[ch]
    } else if (ch === '#' && ['{', '$', '@'].includes(value[i + 1] ?? '')) {
      out += '\\#'
    } else if (code < 0x20 || code === 0x7f) {
      out += '\\x' + code.toString(16).toUpperCase().padStart(2, '0')
    } else {
      out += ch
    }
  }
  return out
}

/** Splits into alternating runs of ASCII and non-ASCII characters, as Kamal does. */
function asciiRuns(value: string): string[] {
  return value.match(/[\x00-\x7F]+|[^\x00-\x7F]+/gu) ?? []
}

// A `$` not starting a `${...}` reference; those are left for the remote shell.
const DOLLAR_WITHOUT_SHELL_EXPANSION = /\$(?!\{[^}]*\})/g

/**
 * Kamal::Utils.escape_shell_value: each ASCII run becomes a double-quoted Ruby
 * dump with backticks and `$` escaped (but `${VAR}` kept), non-ASCII runs are
 * written verbatim.
 */
export function escapeShellValue(value: unknown): string {
  return asciiRuns(String(value))
    .map((run) =>
      /^[\x00-\x7F]+$/.test(run)
        ? `"${rubyDumpAsciiBody(run)}"`.replace(/`/g, '\\`').replace(DOLLAR_WITHOUT_SHELL_EXPANSION, '\\$')
        : run,
    )
    .join('')
}

/** Ruby's Shellwords.escape: a single shell word, backslash-escaped. */
export function shellEscape(value: unknown): string {
  const text = String(value)
  if (text === '') return "''"
  return text.replace(/[^A-Za-z0-9_\-.,:+/@\n]/gu, '\\$&').replace(/\n/g, "'\n'")
}

/** A line of a Kamal env file (spec §3.1): dumped ASCII without quotes, `"` and `#` unescaped. */
export function envFileValue(value: string): string {
  return asciiRuns(value)
    .map((run) => (/^[\x00-\x7F]+$/.test(run) ? rubyDumpAsciiBody(run).replace(/\\"/g, '"').replace(/\\#/g, '#') : run))
    .join('')
}

/** Single-quotes a whole command so it can be passed as one argument (e.g. to `sh -c`). */
export function singleQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}
