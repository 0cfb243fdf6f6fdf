/**
 * Time per place in each stage group: a handful of columns that fit 800 px.
 * "n/a" where the plan gave the place nothing in that group, "not run" where
 * it did but the run stopped first.
 */
import { RUNNER } from '../plan/steps'
import type { RunFacts } from './facts'
import { cell, groupBy, PlanIndex, secondsText } from './plan-index'
import { STAGE_GROUPS, groupOfPhase } from './stage-groups'

/** Host plus this many groups at most: wider tables scroll at 800 px. */
export const MAX_PHASE_COLUMNS = 6

export interface PhaseTable {
  columns: string[]
  captions: string[]
  rows: Array<{ place: string; cells: string[]; failed: boolean }>
}

export function phaseTable(facts: RunFacts, index = new PlanIndex(facts.plan)): PhaseTable {
  const planned = new Set(facts.plan.stages.map((stage) => groupOfPhase(stage.phase).name))
  const groups = STAGE_GROUPS.filter((group) => planned.has(group.name)).slice(0, MAX_PHASE_COLUMNS)
  const places = [RUNNER, ...facts.plan.hosts].filter((place) => facts.plan.stages.some((stage) => stage.lanes.some((lane) => lane.place === place)))
  const phasesAt = groupBy(facts.phases, (record) => record.host)
  const shipsAt = groupBy(facts.record.filter((entry) => entry.kind === 'ship'), (entry) => entry.place)
  const rows = places.map((place) => {
    let failed = false
    const cells = groups.map((group) => {
      const stages = facts.plan.stages.filter((stage) => groupOfPhase(stage.phase).name === group.name && index.planned(stage.title, place))
      if (stages.length === 0) return 'n/a'
      const titles = new Set(stages.map((stage) => stage.title))
      const records = (phasesAt.get(place) ?? []).filter((record) => titles.has(record.phase))
      const ships = (shipsAt.get(place) ?? []).filter((entry) => titles.has(entry.stage))
      if (records.length === 0 && ships.length === 0) return 'not run'
      const ms = [...records.map((record) => record.endedAt - record.startedAt), ...ships.map((entry) => entry.endedAt - entry.startedAt)].reduce((sum, value) => sum + value, 0)
      const bad = records.some((record) => !record.ok)
      failed ||= bad
      return `${bad ? '❌ ' : ''}${secondsText(ms)}`
    })
    return { place, cells, failed }
  })
  return { columns: groups.map((group) => group.name), captions: groups.map((group) => `${group.name}: ${group.holds}`), rows }
}

export function phaseTableMarkdown(table: PhaseTable, maxRows: number): string[] {
  if (table.rows.length === 0) return []
  const shown = table.rows.filter((row, at) => at < maxRows || row.failed)
  const hidden = table.rows.length - shown.length
  return [
    '### Time per host',
    '',
    `| Host | ${table.columns.join(' | ')} |`,
    `| --- | ${table.columns.map(() => '---:').join(' | ')} |`,
    ...shown.map((row) => `| ${cell(row.place === RUNNER ? 'runner' : row.place)} | ${row.cells.join(' | ')} |`),
    ...(hidden > 0 ? [`| … ${hidden} more hosts | ${table.columns.map(() => '').join(' | ')} |`] : []),
    '',
    `<sub>${table.captions.join(' · ')}. n/a: nothing of that kind on this host; not run: the run stopped before it.</sub>`,
    '',
  ]
}
