import type { BootOutcome } from '../deploy/request'
import type { PhaseRecord } from '../deploy/progress'

export interface DeploySummary {
  command: string
  service: string
  destination?: string
  version: string
  image: string
  result: 'success' | 'failed' | 'cancelled' | 'skipped'
  seconds: number
  boots: BootOutcome[]
  phases: PhaseRecord[]
  error?: string
  /** what a maintenance command reports (lock status, …) */
  note?: string
  /** one line on the image transfer of a registry-free deploy */
  transferLine?: string
  /** the commands of the run, shown collapsed */
  planMarkdown?: string
  /** text known to be secret, removed from everything written */
  redact: (text: string) => string
}

const MAX_SUMMARY_BYTES = 900 * 1024
const MAX_ROWS = 200
const RESULT_ICON: Record<DeploySummary['result'], string> = { success: '✅', failed: '❌', cancelled: '⏹️', skipped: '⏭️' }

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`

/** The job summary of a deploy: headline, a row per host × role, phase timings, a timeline, failures. Bounded in size. */
export function deploySummaryMarkdown(summary: DeploySummary): string {
  const { boots, phases } = summary
  const destination = summary.destination ? ` → \`${summary.destination}\`` : ''
  const head = [
    `## ${RESULT_ICON[summary.result]} ${summary.command} \`${summary.service}\`${destination}: ${summary.result}`,
    '',
    `Version \`${summary.version}\` · image \`${summary.image}\` · ${summary.seconds.toFixed(1)}s in total`,
    '',
    ...(summary.transferLine ? [summary.transferLine.trimEnd(), ''] : []),
    ...(summary.note ? ['```', summary.note.slice(0, 4000), '```', ''] : []),
  ]

  const phaseTime = (host: string, phase: string, role?: string) => {
    const record = phases.find((item) => item.host === host && item.phase === phase && (role === undefined || item.role === role))
    return record ? seconds(record.endedAt - record.startedAt) : '—'
  }
  const bootRows = boots.slice(0, MAX_ROWS).map((boot) =>
    `| ${cell(boot.host)} | ${cell(boot.role)} | ${cell(boot.previousVersion ?? '—')} → ${cell(boot.version)} | \`${cell(boot.container)}\` | ${boot.healthSeconds !== undefined ? `${boot.healthSeconds.toFixed(1)}s` : '—'} | ${phaseTime(boot.host, 'Pull image')} | ${phaseTime(boot.host, 'Boot app', boot.role)} | ${boot.ok ? '✅ ok' : '❌ failed'} |`,
  )
  const hostsTable = boots.length > 0
    ? [
        '| Host | Role | Version | Container | Healthy after | Pull | Boot | Result |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |',
        ...bootRows,
        ...(boots.length > MAX_ROWS ? [`| … ${boots.length - MAX_ROWS} more rows | | | | | | | |`] : []),
        '',
      ]
    : []

  const failures = boots.filter((boot) => !boot.ok).slice(0, 20).map((boot) =>
    [`<details><summary>❌ ${boot.host} (${boot.role})</summary>`, '', '```', (boot.error ?? '').slice(0, 4000), '```', '', '</details>', ''].join('\n'),
  )
  const error = summary.error && failures.length === 0 ? ['**Error**', '', '```', summary.error.slice(0, 4000), '```', ''] : []

  const plan = summary.planMarkdown ? ['<details><summary>Commands run on each host</summary>', '', summary.planMarkdown, '</details>', ''] : []
  const text = [...head, ...error, ...hostsTable, ...failures, ...phaseTable(phases), ...timeline(phases), ...plan, ''].join('\n')
  return bound(summary.redact(text))
}

/** Seconds each phase took on each host. */
function phaseTable(phases: PhaseRecord[]): string[] {
  if (phases.length === 0) return []
  const names = [...new Set(phases.map((record) => record.phase))]
  const hosts = [...new Set(phases.map((record) => record.host))]
  const rows = hosts.slice(0, MAX_ROWS).map((host) => {
    const cells = names.map((name) => {
      const records = phases.filter((record) => record.host === host && record.phase === name)
      if (records.length === 0) return '—'
      const total = records.reduce((sum, record) => sum + (record.endedAt - record.startedAt), 0)
      return `${seconds(total)}${records.some((record) => !record.ok) ? ' ❌' : ''}`
    })
    return `| ${cell(host)} | ${cells.join(' | ')} |`
  })
  return ['### Phases per host', '', `| Host | ${names.join(' | ')} |`, `| --- | ${names.map(() => '---').join(' | ')} |`, ...rows, '']
}

/** A Mermaid gantt of every host's phases (GitHub renders it). */
function timeline(phases: PhaseRecord[]): string[] {
  if (phases.length === 0) return []
  const hosts = [...new Set(phases.map((record) => record.host))]
  const sections = hosts.slice(0, 60).flatMap((host) => [
    `  section ${host.replace(/[:#]/g, ' ')}`,
    ...phases
      .filter((record) => record.host === host)
      .map((record) => {
        const label = `${record.phase}${record.role ? ` ${record.role}` : ''}`.replace(/[:#]/g, ' ')
        const end = Math.max(record.endedAt, record.startedAt + 1)
        return `  ${label} :${record.ok ? '' : 'crit, '}${record.startedAt}, ${end}`
      }),
  ])
  return ['### Timeline', '', '```mermaid', 'gantt', '  dateFormat x', '  axisFormat %M:%S', ...sections, '```', '']
}

function bound(text: string): string {
  if (Buffer.byteLength(text) <= MAX_SUMMARY_BYTES) return text
  const cut = Buffer.from(text).subarray(0, MAX_SUMMARY_BYTES).toString('utf8')
  return `${cut}\n\n… summary truncated to stay under GitHub's 1 MiB limit.\n`
}
