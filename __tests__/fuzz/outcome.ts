import fc from 'fast-check'
import { ConfigError } from '../../src/errors'

// One seed for every fuzz suite, so CI is repeatable (the case counts in a log can be reproduced);
// FUZZ_SEED=<n> explores other inputs.
fc.configureGlobal({ seed: Number(process.env.FUZZ_SEED ?? 20261201) })

/** How one fuzz case ended; anything else (another exception, a slow case) fails the property. */
export type Outcome = 'value' | 'located-error'

/** Per-case wall-clock bound: a reader that takes longer is treated as hanging. */
export const CASE_TIME_LIMIT_MS = 2000

export class OutcomeTally {
  readonly counts: Record<Outcome, number> = { value: 0, 'located-error': 0 }

  constructor(readonly name: string) {}

  get total(): number {
    return this.counts.value + this.counts['located-error']
  }

  /**
   * Runs one case: it must return, or throw a ConfigError whose location
   * passes `checkLocation`, within the time limit.
   */
  run(readCase: () => void, checkLocation: (error: ConfigError) => void): void {
    const started = Date.now()
    try {
      readCase()
      this.counts.value++
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      checkLocation(error)
      this.counts['located-error']++
    }
    const took = Date.now() - started
    if (took > CASE_TIME_LIMIT_MS) throw new Error(`${this.name}: one case took ${took} ms (limit ${CASE_TIME_LIMIT_MS} ms)`)
  }

  /** Printed so CI logs show how much was exercised. */
  report(): string {
    const line = `${this.name}: ${this.total} cases, ${this.counts.value} read to a value, ${this.counts['located-error']} located errors`
    console.log(line)
    return line
  }
}

/** The location must name one of `files` at a line/column that exists there (a line past the end is the end of file). */
export function expectLocatedIn(error: ConfigError, lineCounts: Record<string, number>): void {
  const location = error.location
  if (!location) throw new Error(`ConfigError without a location: ${error.message}`)
  const lines = lineCounts[location.file]
  if (lines === undefined) throw new Error(`ConfigError located in unknown file ${location.file}: ${error.message}`)
  if (!(location.line >= 1 && location.line <= lines + 1 && location.column >= 1)) {
    throw new Error(`ConfigError at impossible ${location.file}:${location.line}:${location.column} (file has ${lines} lines): ${error.message}`)
  }
}

export function lineCount(text: string): number {
  return text.split('\n').length
}
