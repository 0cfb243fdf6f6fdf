/** Lookups from a record entry back to the plan step and stage it ran for. */
import type { RecordEntry } from '../execute/record'
import { walkPlan, type Plan, type Stage, type Step } from '../plan/steps'

export class PlanIndex {
  private readonly steps: Step[] = []
  private readonly stages = new Map<string, Stage>()
  /** titles of the stages whose units are role boots */
  readonly bootStages = new Set<string>()
  private readonly lanes = new Set<string>()

  constructor(readonly plan: Plan) {
    // the executor numbers steps in this same walk order (Execution.stepIndex)
    for (const { step } of walkPlan(plan)) this.steps.push(step)
    for (const stage of plan.stages) {
      if (!this.stages.has(stage.title)) this.stages.set(stage.title, stage)
      if (stage.lanes.some((lane) => lane.units.some((unit) => unit.boot))) this.bootStages.add(stage.title)
      for (const lane of stage.lanes) this.lanes.add(`${stage.title}\n${lane.place}`)
    }
  }

  stepOf(entry: RecordEntry): Step | undefined {
    return entry.step >= 0 ? this.steps[entry.step] : undefined
  }

  stage(title: string): Stage | undefined {
    return this.stages.get(title)
  }

  /** whether the plan gave this place work in the stage */
  planned(title: string, place: string): boolean {
    return this.lanes.has(`${title}\n${place}`)
  }
}

export const secondsText = (ms: number): string => `${(ms / 1000).toFixed(1)}s`

/** A git commit id as versions and GITHUB_SHA spell it. */
export const isCommitId = (text: string | undefined): boolean => text !== undefined && /^[0-9a-f]{7,40}$/i.test(text)

/** Commit ids shortened as GitHub shows them; other versions kept, cut when very long. */
export function shortVersion(version: string): string {
  if (isCommitId(version)) return version.slice(0, 7)
  return version.length > 24 ? `${version.slice(0, 23)}…` : version
}

export const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const name = key(item)
    const list = groups.get(name)
    if (list) list.push(item)
    else groups.set(name, [item])
  }
  return groups
}
