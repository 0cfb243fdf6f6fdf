/** The record of what a run did: every command and upload, in order per place, with its outcome. */
export interface RecordEntry {
  /** index of the plan step this entry belongs to (see stepIndex) */
  step: number
  stage: string
  place: string
  role?: string
  kind: string
  /** the command as it ran (placeholders filled); for an upload, `upload <path> (mode …)` */
  command: string
  /** a runner process's argv (no secret is ever in an argv) */
  argv?: string[]
  /** 'stopped': a runner process ended early because the run had failed elsewhere or the job was cancelled */
  outcome: 'ok' | 'failed' | 'tolerated' | 'skipped' | 'stopped'
  code?: number
  startedAt: number
  endedAt: number
}

export class RunRecord {
  readonly entries: RecordEntry[] = []

  add(entry: RecordEntry): void {
    this.entries.push(entry)
  }

  forPlace(place: string): RecordEntry[] {
    return this.entries.filter((entry) => entry.place === place)
  }
}
