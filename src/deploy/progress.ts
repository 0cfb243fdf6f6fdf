import * as core from '@actions/core'

export interface PhaseRecord {
  host: string
  phase: string
  role?: string
  startedAt: number
  endedAt: number
  ok: boolean
  detail?: string
}

/**
 * Log output for work that runs on many hosts at once. Each host's phase is
 * buffered and printed as one collapsible group when it ends, titled with its
 * duration, so parallel hosts never interleave. Every phase is also recorded
 * for the summary's table and timeline.
 */
export class Progress {
  readonly records: PhaseRecord[] = []
  private readonly started = Date.now()

  constructor(private readonly clock: () => number = Date.now) {}

  async phase<T>(host: string, phase: string, work: (log: (line: string) => void) => Promise<T>, role?: string): Promise<T> {
    const lines: string[] = []
    const startedAt = this.clock()
    const finish = (ok: boolean, detail?: string) => {
      const endedAt = this.clock()
      this.records.push({ host, phase, role, startedAt, endedAt, ok, detail })
      const seconds = ((endedAt - startedAt) / 1000).toFixed(1)
      core.startGroup(`${host} · ${phase}${role ? ` [${role}]` : ''} — ${ok ? 'done' : 'FAILED'} in ${seconds}s`)
      for (const line of lines) core.info(line)
      if (detail && !ok) core.info(detail)
      core.endGroup()
    }
    try {
      const result = await work((line) => lines.push(line))
      finish(true)
      return result
    } catch (error) {
      finish(false, error instanceof Error ? error.message : String(error))
      throw error
    }
  }

  say(message: string): void {
    core.info(message)
  }

  elapsedSeconds(): number {
    return (this.clock() - this.started) / 1000
  }
}
