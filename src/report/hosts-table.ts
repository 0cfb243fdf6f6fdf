/** The host × role table, its column notes, and the failed boots' log tails. */
import type { SummaryRole } from './facts'
import type { HostRow } from './host-rows'
import { cell, secondsText, shortVersion } from './plan-index'

const HEALTH: Record<HostRow['state'], string> = { ok: '✅', failed: '❌ failed', 'held back': '⏸️ held back', 'rolled back': '↩️ rolled back', 'not reached': 'not reached' }
const OLD: Record<HostRow['oldContainer'], string> = { stopped: 'stopped', 'stop failed': '⚠️ stop failed', none: 'n/a', kept: 'kept, serving' }
/** Waits shorter than this are not worth a word in the Total column. */
const NOTABLE_WAIT_MS = 100

function rowLine(row: HostRow): string {
  const host = `${cell(row.host)}${row.primaryHost && row.primaryRole ? ' ★' : ''}`
  const version = row.state === 'not reached' ? 'unchanged' : `${row.before ? shortVersion(row.before) : 'none'} → ${shortVersion(row.after)}`
  const health = row.state === 'ok' ? `${HEALTH.ok} ${row.healthyMs !== undefined ? secondsText(row.healthyMs) : ''}`.trim() : HEALTH[row.state]
  const wait = row.barrierMs !== undefined && row.barrierMs >= NOTABLE_WAIT_MS ? `, ${secondsText(row.barrierMs)} wait` : ''
  const total = row.totalMs !== undefined ? `${secondsText(row.totalMs)}${wait}` : 'not run'
  return `| ${host} | ${cell(row.role)} | ${cell(version)} | ${health} | ${OLD[row.oldContainer]} | ${total} |`
}

export function hostsTableMarkdown(rows: readonly HostRow[], roles: readonly SummaryRole[], maxRows: number): string[] {
  if (rows.length === 0) return []
  const shown = rows.filter((row, at) => at < maxRows || row.state === 'failed')
  const hidden = rows.length - shown.length
  const primary = roles.find((role) => role.primary)
  const others = roles.filter((role) => !role.primary).map((role) => role.name)
  const checks = roles.map((role) => `${role.name}: ${role.health}`).join('; ')
  return [
    '### Hosts',
    '',
    '| Host | Role | Version | Healthy | Old container | Total |',
    '| --- | --- | --- | --- | --- | ---: |',
    ...shown.map(rowLine),
    ...(hidden > 0 ? [`| … ${hidden} more rows, all ${[...new Set(rows.slice(maxRows).map((row) => row.state))].join(' or ')} | | | | | |`] : []),
    '',
    `<sub>★ primary host: it holds the deploy lock${primary && others.length > 0 ? `, and ${others.join(', ')} boot only once the first ${primary.name} container is healthy (the wait in Total)` : ''}. Healthy: from \`docker run\` until the check passed (${checks}). Old container: the previous version, stopped once the new one is healthy. Total: the role's whole boot on that host.${rows.some((row) => row.state === 'held back') ? ` Held back: not booted because the first ${primary?.name ?? 'primary'} container failed.` : ''}${rows.some((row) => row.state === 'rolled back') ? ' Rolled back (all-or-nothing): healthy on the new version, put back on the previous one because another host failed.' : ''}</sub>`,
    '',
  ]
}

export function failedBootDetails(rows: readonly HostRow[], limit = 10): string[] {
  return rows
    .filter((row) => row.state === 'failed')
    .slice(0, limit)
    .flatMap((row) => [
      `<details><summary>❌ ${cell(row.host)} (${cell(row.role)}): error and log tail</summary>`,
      '',
      '```',
      [row.error ?? 'failed', row.logTail && !(row.error ?? '').includes(row.logTail) ? `Last log lines of the new container:\n${row.logTail}` : ''].filter(Boolean).join('\n').slice(0, 4000).replace(/```/g, '`\u200b``'),
      '```',
      '',
      '</details>',
      '',
    ])
}
