/**
 * One row per host × role of a boot: the primary host first, then the roles
 * in config order (primary role first) with their hosts in config order.
 * Times come from the record: healthy is `docker run` to healthy, total the
 * whole boot on that host, waits included.
 */
import type { RecordEntry } from '../execute/record'
import type { RunFacts } from './facts'
import { groupBy, PlanIndex } from './plan-index'

export type RowState = 'ok' | 'failed' | 'held back' | 'rolled back' | 'not reached'

export interface HostRow {
  host: string
  role: string
  primaryHost: boolean
  primaryRole: boolean
  state: RowState
  before?: string
  after: string
  /** what kamal-proxy or Docker checks */
  health: string
  healthyMs?: number
  /** the old version's container: stopped, its stop failed, or none to stop */
  oldContainer: 'stopped' | 'stop failed' | 'none' | 'kept'
  totalMs?: number
  /** time spent waiting for the first healthy primary container */
  barrierMs?: number
  error?: string
  logTail?: string
}

export function hostRows(facts: RunFacts, index = new PlanIndex(facts.plan)): HostRow[] {
  if (index.bootStages.size === 0) return []
  const primaryHost = facts.plan.primaryHost
  const pairs = facts.roles.flatMap((role) => role.hosts.map((host) => ({ host, role })))
  pairs.sort((a, b) => Number(b.host === primaryHost && b.role.primary) - Number(a.host === primaryHost && a.role.primary))
  const bootEntries = groupBy(facts.record.filter((entry) => index.bootStages.has(entry.stage)), (entry) => `${entry.place}\n${entry.role}`)
  return pairs.map(({ host, role }) => {
    const boot = facts.boots.find((item) => item.host === host && item.role === role.name)
    const entries = bootEntries.get(`${host}\n${role.name}`) ?? []
    const barrier = barrierWait(entries)
    const phase = facts.phases.find((record) => record.host === host && record.role === role.name && index.bootStages.has(record.phase))
    const state: RowState = !boot ? 'not reached' : boot.ok ? 'ok' : boot.rolledBack ? 'rolled back' : barrier && barrier.entry.outcome === 'failed' ? 'held back' : 'failed'
    return {
      host,
      role: role.name,
      primaryHost: host === primaryHost,
      primaryRole: role.primary,
      state,
      before: boot?.previousVersion,
      after: boot?.version ?? facts.version,
      health: role.health,
      healthyMs: state === 'ok' ? healthyMs(entries, index) ?? (boot?.healthSeconds !== undefined ? boot.healthSeconds * 1000 : undefined) : undefined,
      oldContainer: oldContainer(entries, index, boot?.previousVersion, boot?.version ?? facts.version, state),
      totalMs: phase ? phase.endedAt - phase.startedAt : entries.length > 0 ? entries[entries.length - 1].endedAt - entries[0].startedAt : undefined,
      barrierMs: barrier?.ms,
      error: boot?.error,
      logTail: boot?.logTail,
    }
  })
}

/** The barrier wait: from the step before it to the decision (the executor records the decision's moment). */
export function barrierWait(entries: readonly RecordEntry[]): { entry: RecordEntry; startedAt: number; ms: number } | undefined {
  const at = entries.findIndex((entry) => entry.kind === 'barrier-wait')
  if (at < 0) return undefined
  const entry = entries[at]
  // The entry spans the wait; a record without that span (zero length) waited since the step before.
  const startedAt = entry.endedAt > entry.startedAt || at === 0 ? entry.startedAt : entries[at - 1].endedAt
  return { entry, startedAt, ms: Math.max(0, entry.endedAt - startedAt) }
}

function healthyMs(entries: readonly RecordEntry[], index: PlanIndex): number | undefined {
  const run = entries.find((entry) => {
    const step = index.stepOf(entry)
    return step?.kind === 'exec' && step.label === 'docker run'
  })
  const healthy = [...entries].reverse().find((entry) => {
    const step = index.stepOf(entry)
    return entry.outcome === 'ok' && (step?.kind === 'health' || (step?.kind === 'exec' && step.label === 'kamal-proxy deploy'))
  })
  return run && healthy ? healthy.endedAt - run.startedAt : undefined
}

function oldContainer(entries: readonly RecordEntry[], index: PlanIndex, before: string | undefined, after: string, state: RowState): HostRow['oldContainer'] {
  if (state !== 'ok') return before ? 'kept' : 'none'
  if (!before || before === after) return 'none'
  // the first old-version step of a boot unit is the stop of the old container
  const stop = entries.find((entry) => index.stepOf(entry)?.when === 'old_version' && /docker stop/.test(entry.command))
  return !stop ? 'kept' : stop.outcome === 'ok' ? 'stopped' : 'stop failed'
}
