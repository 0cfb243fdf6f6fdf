import * as core from '@actions/core'

// A one- to three-character line of a multi-line secret (`{`, `}`, `---`) is no
// secret on its own, and masking it would turn every such run in the log into ***.
const MIN_FRAGMENT_LENGTH = 4

/**
 * Registers a secret with the runner so it is replaced by *** in the log. The
 * runner masks line by line, so each line of a multi-line value (a PEM key, a
 * JSON blob) is registered too, with and without its surrounding whitespace.
 */
export function maskSecretValue(value: string): void {
  for (const fragment of fragmentsToMask(value)) core.setSecret(fragment)
}

export function fragmentsToMask(value: string): string[] {
  if (value.trim() === '') return []
  const fragments = new Set([value])
  for (const line of value.split(/\r\n|\n|\r/)) {
    for (const fragment of [line, line.trim()]) {
      if (fragment.trim().length >= MIN_FRAGMENT_LENGTH) fragments.add(fragment)
    }
  }
  return [...fragments]
}
