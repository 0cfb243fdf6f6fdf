/**
 * Checks a record of what ran against the plan it came from: every entry
 * belongs to a step of the plan on the same place, its command is one the
 * step can run (placeholders filled with anything), entries come in plan
 * order per place and role, and every unconditional step of a stage that ran
 * left an entry. Used by the tests that compare runs with plans.
 */
import type { RecordEntry } from '../execute/record'
import { PLACEHOLDER_PATTERN, uploadLine, walkPlan, type Plan, type Step } from './steps'

export interface Drift {
  entry?: RecordEntry
  step?: number
  problem: string
}

/** The commands a step may run, as patterns; undefined = this kind runs commands only its executor knows (bootstrap). */
export function stepCommandPatterns(step: Step): RegExp[] | undefined {
  const template = (command: string) => new RegExp(`^${command.split(PLACEHOLDER_PATTERN).map((part, index) => (index % 2 === 1 ? '[\\s\\S]*?' : escape(part))).join('')}$`)
  switch (step.kind) {
    case 'exec':
      return [template(step.command), ...(step.watch ? [template(step.watch)] : [])]
    case 'health':
      return [template(step.command), template(step.watch)]
    case 'serving':
    case 'proxy-version':
    case 'skip-if':
    case 'require-version':
    case 'report':
      return [template(step.command)]
    case 'lock':
      return [template(step.command), template(step.status)]
    case 'stale':
      return [template(step.survey), ...(step.serving ? [template(step.serving.command)] : []), ...(step.staleInto ? [] : [template(step.stop)])]
    case 'stop-stale':
      return [template(step.stop)]
    case 'clash':
      return [template(step.find), template(step.audit), template(step.rename)]
    case 'upload':
      return [new RegExp(`^${escape(uploadLine(step))}$`)]
    case 'runner':
      return [template(step.display), ...(step.skipIf ? [template(step.skipIf.display)] : [])]
    case 'clone':
      return step.steps.flatMap((inner) => [template(inner.display), ...(inner.skipIf ? [template(inner.skipIf.display)] : [])])
    case 'digest':
      return [template(step.display), ...(step.fallback ? [template(step.fallback.display)] : [])]
    case 'ensure-docker':
      return undefined
    default:
      return [/[\s\S]*/]
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

export function checkRecordAgainstPlan(plan: Plan, entries: RecordEntry[]): Drift[] {
  const drifts: Drift[] = []
  const steps: Array<{ step: Step; place: string; stage: string; unitRole?: string; conditional: boolean }> = []
  for (const { stage, lane, unit, step, failureStep } of walkPlan(plan)) {
    steps.push({ step, place: lane.place, stage: stage.title, unitRole: unit.role, conditional: failureStep || Boolean(step.when || step.unless) || stage.onSuccessOnly === true })
  }
  const lastIndex = new Map<string, number>()
  for (const entry of entries) {
    const planned = steps[entry.step]
    if (!planned) {
      drifts.push({ entry, problem: 'ran a step that is not in the plan' })
      continue
    }
    if (planned.place !== entry.place) drifts.push({ entry, step: entry.step, problem: `ran on ${entry.place}, planned on ${planned.place}` })
    const patterns = stepCommandPatterns(planned.step)
    if (patterns && !patterns.some((pattern) => pattern.test(entry.command))) drifts.push({ entry, step: entry.step, problem: `command differs from the plan's ${planned.step.kind} step` })
    const key = `${entry.place}|${entry.role ?? ''}|${entry.stage}`
    const last = lastIndex.get(key) ?? -1
    // A step started alongside the next one may end, and so be recorded, after it.
    const wentAhead = planned.step.alongsideNext === true && last === entry.step + 1
    if (last > entry.step && !wentAhead) drifts.push({ entry, step: entry.step, problem: 'ran out of plan order' })
    lastIndex.set(key, Math.max(last, entry.step))
  }
  // Every unconditional step of a stage that ran to its end left an entry (units that failed or were skipped stop early).
  const ranStages = new Set(entries.map((entry) => `${entry.place}|${entry.stage}`))
  const failedUnits = new Set(entries.filter((entry) => entry.outcome === 'failed' || entry.outcome === 'skipped' || entry.outcome === 'stopped').map((entry) => `${entry.place}|${entry.stage}|${entry.role ?? ''}`))
  const seen = new Set(entries.map((entry) => entry.step))
  steps.forEach((planned, index) => {
    if (planned.conditional || seen.has(index) || !ranStages.has(`${planned.place}|${planned.stage}`)) return
    if (failedUnits.has(`${planned.place}|${planned.stage}|${planned.unitRole ?? ''}`)) return
    if (['barrier-open', 'ship', 'sleep'].includes(planned.step.kind)) return
    drifts.push({ step: index, problem: `planned ${planned.step.kind} step on ${planned.place} (${planned.stage}) did not run` })
  })
  return drifts
}
