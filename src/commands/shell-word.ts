/**
 * What `sh` makes of one word of a Kamal command line: quotes removed,
 * backslash escapes applied, `$NAME` / `${NAME}` expanded from `env`.
 * Kamal hands its build commands to a local shell; we run the same words
 * without one, so each word is evaluated here the way that shell would.
 * Only the syntax Kamal's builder words contain is handled (no globbing,
 * no word splitting, no command substitution).
 */
export function evaluateShellWord(word: string, env: Record<string, string | undefined>): string {
  let out = ''
  let quote: '"' | "'" | undefined
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]
    if (quote === "'") {
      if (ch === "'") quote = undefined
      else out += ch
      continue
    }
    if (ch === '\\') {
      const next = word[i + 1]
      if (next === undefined) out += ch
      else if (quote !== '"' || '$`"\\\n'.includes(next)) {
        out += next
        i++
      } else out += ch
      continue
    }
    if (ch === '"') {
      quote = quote ? undefined : '"'
      continue
    }
    if (ch === "'" && !quote) {
      quote = "'"
      continue
    }
    if (ch === '$') {
      const reference = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(word.slice(i))
      if (reference) {
        out += env[reference[1] ?? reference[2]] ?? ''
        i += reference[0].length - 1
        continue
      }
    }
    out += ch
  }
  return out
}
