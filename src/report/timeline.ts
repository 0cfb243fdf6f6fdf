/**
 * The run's timeline, measured from its first recorded moment: a few bars per
 * place (the stage groups), and the idle time between them drawn as waits
 * with what they waited for (the runner's build, the lock, the first healthy
 * primary container, a boot group, another host's stage). Past a handful of
 * places the bars are one per stage across all hosts.
 */
import type { PhaseRecord } from '../deploy/progress'
import { RUNNER } from '../plan/steps'
import type { RunFacts } from './facts'
import { barrierWait } from './host-rows'
import { PlanIndex } from './plan-index'
import { groupOfPhase } from './stage-groups'

export type BarKind = 'work' | 'wait' | 'failed'

export interface TimelineBar {
  section: string
  label: string
  start: number
  end: number
  kind: BarKind
}

export interface Timeline {
  start: number
  end: number
  bars: TimelineBar[]
  /** one bar per stage across all hosts, rather than per place */
  aggregated: boolean
}

/** Beyond this many places a row per place is too tall to read. */
export const MAX_TIMELINE_PLACES = 30

/** The run's first and last recorded moments: the summary's total is this span. */
export function runSpan(facts: Pick<RunFacts, 'phases' | 'record'>): { start: number; end: number } {
  const starts = [...facts.phases.map((record) => record.startedAt), ...facts.record.map((entry) => entry.startedAt)]
  const ends = [...facts.phases.map((record) => record.endedAt), ...facts.record.map((entry) => entry.endedAt)]
  if (starts.length === 0) return { start: 0, end: 0 }
  return { start: Math.min(...starts), end: Math.max(...ends) }
}

export function buildTimeline(facts: RunFacts, index = new PlanIndex(facts.plan)): Timeline {
  const { start, end } = runSpan(facts)
  const places = [RUNNER, ...facts.plan.hosts].filter((place) => facts.phases.some((record) => record.host === place) || facts.record.some((entry) => entry.place === place))
  const aggregated = places.length > MAX_TIMELINE_PLACES
  const bars = aggregated ? stageBars(facts, index) : places.flatMap((place) => placeBars(facts, index, place, start, end))
  return { start, end, bars, aggregated }
}

interface Piece extends TimelineBar {
  stage: string
}

function placeBars(facts: RunFacts, index: PlanIndex, place: string, start: number, end: number): TimelineBar[] {
  const minGap = Math.max(100, (end - start) * 0.015)
  const pieces = workPieces(facts, index, place).sort((a, b) => a.start - b.start)
  const merged: Piece[] = []
  for (const piece of pieces) {
    const last = merged[merged.length - 1]
    if (last && last.label === piece.label && last.kind === piece.kind && piece.start - last.end < minGap) last.end = Math.max(last.end, piece.end)
    else merged.push({ ...piece })
  }
  const bars: TimelineBar[] = []
  let idleSince = start
  for (const piece of merged) {
    if (piece.start - idleSince >= minGap) bars.push({ section: place, label: waitCause(facts, index, place, idleSince, piece), start: idleSince, end: piece.start, kind: 'wait' })
    bars.push(piece)
    idleSince = Math.max(idleSince, piece.end)
  }
  return bars
}

/** The place's phases as bars of their stage group; a boot that waited at the barrier is split around the wait. */
function workPieces(facts: RunFacts, index: PlanIndex, place: string): Piece[] {
  const primaryRole = facts.roles.find((role) => role.primary)?.name ?? 'primary'
  const pieces: Piece[] = facts.phases
    .filter((record) => record.host === place)
    .flatMap((record) => {
      const group = groupOfPhase(index.stage(record.phase)?.phase).name
      const stagePhase = index.stage(record.phase)?.phase
      const label = group === 'Boot' && record.role ? `Boot ${record.role}` : stagePhase === 'connect' && !record.phase.startsWith('Hook') ? 'Connect' : group
      const kind: BarKind = record.ok ? 'work' : 'failed'
      const whole: Piece = { section: place, label, start: record.startedAt, end: record.endedAt, kind, stage: record.phase }
      const wait = group === 'Boot' ? barrierWait(facts.record.filter((entry) => entry.place === place && entry.role === record.role && entry.stage === record.phase)) : undefined
      if (!wait || wait.ms <= 0) return [whole]
      return [
        { ...whole, end: wait.startedAt, kind: 'work' as const },
        { ...whole, label: `wait for the first healthy ${primaryRole}`, start: wait.startedAt, end: wait.entry.endedAt, kind: 'wait' as const },
        { ...whole, start: wait.entry.endedAt },
      ]
    })
  for (const entry of facts.record.filter((item) => item.place === place && item.kind === 'ship')) {
    pieces.push({ section: place, label: 'Serve image', start: entry.startedAt, end: entry.endedAt, kind: entry.outcome === 'failed' ? 'failed' : 'work', stage: entry.stage })
  }
  return pieces
}

/** What the place waited for between `since` and the next piece. */
function waitCause(facts: RunFacts, index: PlanIndex, place: string, since: number, next: Piece): string {
  const waitsFor = index.stage(next.stage)?.waitsFor
  if (waitsFor) return `wait for ${waitsFor}`
  const blocker = facts.phases
    .filter((record) => record.host !== place && record.endedAt > since && record.endedAt <= next.start + 100)
    .reduce<PhaseRecord | undefined>((latest, record) => (!latest || record.endedAt > latest.endedAt ? record : latest), undefined)
  if (!blocker) return 'wait'
  if (/\(boot\.wait\)$/.test(blocker.phase)) return 'wait for boot.wait'
  if (blocker.phase === 'Acquire deploy lock') return `wait for the lock on ${blocker.host}`
  return `wait for ${blocker.host === RUNNER ? 'the runner' : blocker.host} (${blocker.phase}${blocker.role ? ` ${blocker.role}` : ''})`
}

/** Many places: one bar per stage from its first start to its last end, and one per role's barrier wait. */
function stageBars(facts: RunFacts, index: PlanIndex): TimelineBar[] {
  const bars: TimelineBar[] = []
  const primaryRole = facts.roles.find((role) => role.primary)?.name ?? 'primary'
  for (const stage of facts.plan.stages) {
    const records = facts.phases.filter((record) => record.phase === stage.title)
    const ships = facts.record.filter((entry) => entry.stage === stage.title && entry.kind === 'ship')
    const spans = [...records.map((record) => [record.startedAt, record.endedAt]), ...ships.map((entry) => [entry.startedAt, entry.endedAt])]
    if (spans.length === 0) continue
    const hosts = new Set([...records.map((record) => record.host), ...ships.map((entry) => entry.place)])
    const group = groupOfPhase(stage.phase).name
    const where = hosts.size === 1 ? [...hosts][0] : `${hosts.size} hosts`
    const failed = records.some((record) => !record.ok)
    if (index.bootStages.has(stage.title)) {
      for (const role of facts.roles.filter((item) => !item.primary)) {
        const waits = role.hosts.map((host) => barrierWait(facts.record.filter((entry) => entry.place === host && entry.role === role.name && entry.stage === stage.title))).filter((wait) => wait !== undefined && wait.ms > 0)
        if (waits.length === 0) continue
        bars.push({ section: group, label: `${role.name} waits for the first healthy ${primaryRole}`, start: Math.min(...waits.map((wait) => wait!.startedAt)), end: Math.max(...waits.map((wait) => wait!.entry.endedAt)), kind: 'wait' })
      }
    }
    bars.push({ section: group, label: `${stage.title} · ${where}`, start: Math.min(...spans.map(([from]) => from)), end: Math.max(...spans.map(([, to]) => to)), kind: failed ? 'failed' : 'work' })
  }
  return bars
}

const TICKS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800].map((seconds) => ({ seconds, mermaid: seconds < 60 ? `${seconds}second` : `${seconds / 60}minute` }))

/** Pixels the chart's time axis gets at 800 px, and one label character's width: labels that do not fit are shortened. */
const AXIS_PX = 560
const CHAR_PX = 6.5
const SHORT: Record<string, string> = { Prepare: 'Prep', Finish: 'Fin', Connect: '', 'Serve image': 'Serve' }

/** The bar's label if it fits inside the bar, else a short one, else none (the waits list says what it was). */
function fittedLabel(bar: TimelineBar, span: number): string {
  const px = ((bar.end - bar.start) / Math.max(span, 1)) * AXIS_PX
  const fits = (text: string) => text.length * CHAR_PX + 8 <= px
  const short = bar.kind === 'wait' ? 'wait' : bar.label.startsWith('Boot ') ? bar.label.slice(5) : SHORT[bar.label] ?? bar.label
  const text = [bar.label, short].find((candidate) => candidate && fits(candidate))
  // a zero-width space: Mermaid needs a name, the reader needs no clutter
  return (text ?? '\u200b').replace(/[:#;]/g, ' ')
}

/**
 * A Mermaid gantt from 00:00, one row per place (compact mode), a tick every
 * few seconds so no label repeats. Times are milliseconds from the run's
 * start; Mermaid draws them as minutes:seconds after the epoch.
 */
export function timelineMermaid(timeline: Timeline): string[] {
  if (timeline.bars.length === 0) return []
  const span = timeline.end - timeline.start
  const tick = TICKS.find((item) => span / 1000 / item.seconds <= 8) ?? TICKS[TICKS.length - 1]
  const names = sectionNames([...new Set(timeline.bars.map((bar) => bar.section))])
  const leftPadding = Math.min(200, Math.max(75, Math.round(Math.max(...[...names.values()].map((name) => name.length)) * CHAR_PX + 24)))
  const lines = ['---', 'displayMode: compact', 'config:', '  gantt:', `    leftPadding: ${leftPadding}`, '---', 'gantt', '  dateFormat x', '  axisFormat %M:%S', `  tickInterval ${tick.mermaid}`, '  todayMarker off']
  let section = ''
  for (const bar of timeline.bars) {
    if (bar.section !== section) {
      section = bar.section
      lines.push(`  section ${names.get(section)}`)
    }
    const from = bar.start - timeline.start
    const to = Math.max(bar.end - timeline.start, from + 1)
    const tag = bar.kind === 'wait' ? 'done, ' : bar.kind === 'failed' ? 'crit, ' : ''
    lines.push(`  ${fittedLabel(bar, span)} :${tag}${from}, ${to}`)
  }
  return lines
}

/** Section names: the runner as such, hosts without the domain they all share (`web-01` for web-01.example.com). */
function sectionNames(sections: string[]): Map<string, string> {
  const hosts = sections.filter((name) => name !== RUNNER && !/^[\d.]+$/.test(name))
  const suffixes = hosts.map((host) => host.slice(host.indexOf('.')))
  const shared = hosts.length > 1 && hosts.every((host) => host.includes('.')) && suffixes.every((suffix) => suffix === suffixes[0]) ? suffixes[0] : ''
  return new Map(sections.map((name) => [name, (name === RUNNER ? 'runner' : shared && name.endsWith(shared) ? name.slice(0, -shared.length) : name).replace(/[:#;]/g, ' ')]))
}

/** The waits in words, grouped by what they waited for: `vm1, vm2 (1.6s) waited for vm3 (Boot app jobs)`. */
export function timelineWaits(timeline: Timeline): string[] {
  const byCause = new Map<string, Array<{ place: string; ms: number }>>()
  for (const bar of timeline.bars.filter((item) => item.kind === 'wait')) {
    const cause = bar.label.replace(/^wait /, '')
    byCause.set(cause, [...(byCause.get(cause) ?? []), { place: bar.section, ms: bar.end - bar.start }])
  }
  return [...byCause].map(([cause, waits]) => {
    const places = [...new Set(waits.map((wait) => (wait.place === RUNNER ? 'the runner' : wait.place)))]
    const longest = Math.max(...waits.map((wait) => wait.ms))
    const who = places.length > 5 ? `${places.slice(0, 5).join(', ')} and ${places.length - 5} more` : places.join(', ')
    return `${who} waited ${places.length > 1 ? 'up to ' : ''}${(longest / 1000).toFixed(1)}s ${cause}`
  })
}
