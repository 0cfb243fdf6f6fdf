/** Which previews a sweep removes, and whether a new one fits under `preview-limit` (pure). */

/** Previews found on each host (host → PR numbers). */
export type PreviewsByHost = ReadonlyMap<string, readonly number[]>

/** Every PR with a preview on any host, sorted. */
export function allPreviews(found: PreviewsByHost): number[] {
  return [...new Set([...found.values()].flat())].sort((a, b) => a - b)
}

/**
 * The refusal when deploying `pr` would give a host more than `limit` previews
 * (a redeploy of a preview already there never counts twice); undefined when it fits.
 */
export function capRefusal(found: PreviewsByHost, pr: number, limit: number): string | undefined {
  const full = [...found.entries()].filter(([, numbers]) => !numbers.includes(pr) && numbers.length >= limit)
  if (full.length === 0) return undefined
  const [host, numbers] = full[0]
  return (
    `a preview of #${pr} would be preview ${numbers.length + 1} on ${host}, over the limit of ${limit} (it has ${numbers.map((n) => `#${n}`).join(', ')}). ` +
    'Close or remove a preview first (command: preview remove with pull-request: <N>, or command: preview sweep for closed ones), or raise preview-limit.'
  )
}

export type PullState = 'open' | 'closed' | 'unknown'

/** The previews a sweep removes: those whose pull request is closed (an unknown state is kept). */
export function sweepTargets(previews: readonly number[], states: ReadonlyMap<number, PullState>): number[] {
  return previews.filter((pr) => states.get(pr) === 'closed')
}
