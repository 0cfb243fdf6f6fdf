/**
 * The job summary of a run toward the hosts, read top-down in ten seconds:
 * the first screen (result, app, commit, changes, who, on failure what next),
 * a row per host × role, the timeline, the time per host, and what ran.
 * Bounded under GitHub's 1 MiB step-summary limit whatever the host count.
 */
import type { RunFacts } from './facts'
import { failedHosts, failureView } from './failure'
import { firstScreen } from './first-screen'
import { hostRows, type HostRow } from './host-rows'
import { failedBootDetails, hostsTableMarkdown } from './hosts-table'
import { phaseTable, phaseTableMarkdown } from './phases'
import { PlanIndex } from './plan-index'
import { buildTimeline, runSpan, timelineMermaid, timelineWaits } from './timeline'
import { recordAsMarkdown } from './what-ran'

export type { RunFacts, RunResult, SummaryRole, GitHubRun } from './facts'
export { runFactsFrom, summaryRoles, gitHubRunFrom } from './facts'

/** GitHub refuses a step summary over 1 MiB; keep a margin for what the runner adds. */
export const MAX_SUMMARY_BYTES = 900 * 1024
const MAX_TABLE_ROWS = 250

export function deploySummaryMarkdown(facts: RunFacts): string {
  const index = new PlanIndex(facts.plan)
  const rows = hostRows(facts, index)
  const timeline = buildTimeline(facts, index)
  const top = [
    ...firstScreen(facts, rows, failureView(facts, rows), timeline.end - timeline.start),
    ...hostsTableMarkdown(rows, facts.roles, MAX_TABLE_ROWS),
    ...failedBootDetails(rows),
    ...timelineSection(timelineMermaid(timeline), timelineWaits(timeline), timeline.aggregated),
    ...phaseTableMarkdown(phaseTable(facts, index), MAX_TABLE_ROWS),
  ].join('\n')
  const budget = MAX_SUMMARY_BYTES - Buffer.byteLength(top) - 4096
  const ran = recordAsMarkdown(facts.record, facts.redact, { hosts: facts.plan.hosts, maxBytes: Math.max(budget, 0) })
  return bound(facts.redact(`${top}\n${ran}\n`))
}

function timelineSection(mermaid: string[], waits: string[], aggregated: boolean): string[] {
  if (mermaid.length === 0) return []
  const note = aggregated ? 'One bar per stage across all hosts, from its first start to its last end.' : 'One row per place, from the first step.'
  const waitLines = waits.length > 0 ? [`<sub>${note} Grey: waiting; red: failed.</sub>`, '', '**Waits:**', '', ...waits.slice(0, 12).map((line) => `- ${line}`), ...(waits.length > 12 ? [`- … ${waits.length - 12} more`] : [])] : [`<sub>${note} Red: failed.</sub>`]
  return ['### Timeline', '', '```mermaid', ...mermaid, '```', '', ...waitLines, '']
}

/** The run's facts as action outputs: `commit`, `previous-version`, `failed-hosts`, and the total (`duration`, the timeline's span). */
export function summaryOutputs(facts: RunFacts): { commit: string; 'previous-version': string; 'failed-hosts': string; duration: string } {
  const rows = hostRows(facts)
  const { start, end } = runSpan(facts)
  return {
    commit: facts.github.sha ?? '',
    'previous-version': previousVersion(rows) ?? '',
    'failed-hosts': failedHosts(facts, rows).join(','),
    duration: ((end - start) / 1000).toFixed(1),
  }
}

/** What the primary host's primary role ran before, else the first host's that had one. */
function previousVersion(rows: readonly HostRow[]): string | undefined {
  return (rows.find((row) => row.primaryHost && row.primaryRole && row.before) ?? rows.find((row) => row.before))?.before
}

function bound(text: string): string {
  if (Buffer.byteLength(text) <= MAX_SUMMARY_BYTES) return text
  const cut = Buffer.from(text).subarray(0, MAX_SUMMARY_BYTES).toString('utf8')
  return `${cut}\n\n… summary truncated to stay under GitHub's 1 MiB limit; the \`record\` output has every step.\n`
}
