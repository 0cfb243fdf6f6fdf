/**
 * The top of the run page: the result and its duration, then where the app
 * is, which commit went out and what changed since each host's previous
 * version, who deployed where; on failure, where and why, what serves now,
 * and what to do next.
 */
import type { RunFacts } from './facts'
import type { FailureView } from './failure'
import type { HostRow } from './host-rows'
import { isCommitId, secondsText, shortVersion } from './plan-index'

const RESULT: Record<RunFacts['result'], { icon: string; word: string }> = {
  success: { icon: '✅', word: 'succeeded' },
  failed: { icon: '❌', word: 'failed' },
  cancelled: { icon: '⏹️', word: 'was cancelled' },
  skipped: { icon: '⏭️', word: 'skipped' },
}

export function commitUrl(facts: RunFacts): string | undefined {
  const { serverUrl, repository, sha } = facts.github
  return repository && sha ? `${serverUrl}/${repository}/commit/${sha}` : undefined
}

/** The commit the hosts now run: the version when it is a commit id (a rollback), else the run's commit. */
function headCommit(facts: RunFacts): string | undefined {
  return isCommitId(facts.version) ? facts.version : facts.github.sha
}

export function compareUrl(facts: RunFacts, before: string): string | undefined {
  const { serverUrl, repository } = facts.github
  const head = headCommit(facts)
  return repository && head && isCommitId(before) && before !== head ? `${serverUrl}/${repository}/compare/${before}...${head}` : undefined
}

/** One entry per previous version, with the hosts that ran it when they were not all the same. */
function changes(facts: RunFacts, rows: readonly HostRow[]): string | undefined {
  const reached = rows.filter((row) => row.state !== 'not reached')
  if (reached.length === 0) return undefined
  const byBefore = new Map<string, string[]>()
  for (const row of reached) {
    const key = row.before ?? ''
    byBefore.set(key, [...(byBefore.get(key) ?? []), row.host].filter((host, at, all) => all.indexOf(host) === at))
  }
  const head = shortVersion(facts.version)
  const parts = [...byBefore].map(([before, hosts]) => {
    const where = byBefore.size > 1 ? ` (${hosts.length > 4 ? `${hosts.slice(0, 4).join(', ')} and ${hosts.length - 4} more` : hosts.join(', ')})` : ''
    if (!before) return `first deploy${where}`
    if (before === facts.version) return `same version as before${where}`
    const url = compareUrl(facts, before)
    const text = `\`${shortVersion(before)}…${head}\``
    return `${url ? `[${text}](${url})` : text}${where}`
  })
  return parts.join(' · ')
}

export function firstScreen(facts: RunFacts, rows: readonly HostRow[], failure: FailureView | undefined, totalMs: number): string[] {
  const { icon, word } = RESULT[facts.result]
  const destination = facts.destination ? ` → \`${facts.destination}\`` : ''
  const lines = [`## ${icon} ${facts.command} \`${facts.service}\`${destination} ${word} in ${secondsText(totalMs)}`, '']
  if (failure) {
    const where = failure.host ? ` on \`${failure.host}\`${failure.role ? ` (${failure.role})` : ''}${failure.stage ? `, ${failure.stage}` : ''}` : ''
    lines.push(`**${facts.result === 'cancelled' ? 'Cancelled' : 'Failed'}${where}:** ${failure.cause}`, '')
    lines.push(`**Serving now:** ${failure.servingNow}`, '')
    lines.push(`**Next:** ${failure.next}`, '')
  }
  const items: string[] = []
  if (facts.urls.length > 0) items.push(`**App:** ${facts.urls.slice(0, 5).map((url) => `[${url.replace(/^https?:\/\//, '')}](${url})`).join(' · ')}${facts.urls.length > 5 ? ` and ${facts.urls.length - 5} more` : ''}`)
  const sha = facts.github.sha
  const commit = commitUrl(facts)
  const change = changes(facts, rows)
  if (sha) items.push(`**Commit:** ${commit ? `[\`${sha.slice(0, 7)}\`](${commit})` : `\`${sha.slice(0, 7)}\``}${change ? ` · **changes:** ${change}` : ''}`)
  else if (change) items.push(`**Changes:** ${change}`)
  items.push(`**Image:** \`${facts.image}\``)
  const who: Array<[string, string | undefined]> = [
    ['by', facts.github.actor && `@${facts.github.actor}`],
    ['destination', facts.destination && `\`${facts.destination}\``],
    ['environment', facts.github.environment && `\`${facts.github.environment}\``],
  ]
  const said = who.filter(([, value]) => value).map(([label, value], at) => `**${at === 0 ? label[0].toUpperCase() + label.slice(1) : label}** ${value}`)
  if (said.length > 0) items.push(said.join(' · '))
  lines.push(...items.map((text) => `- ${text}`), '')
  if (facts.transferLine) lines.push(facts.transferLine.trim(), '')
  if (facts.note) lines.push('```', facts.note.slice(0, 4000).replace(/```/g, '`\u200b``'), '```', '')
  return lines
}
