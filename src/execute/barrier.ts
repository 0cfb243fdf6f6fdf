/** One health decision shared by every host: non-primary roles boot only after the first primary container is healthy. */
export class PrimaryBarrier {
  private settle!: (decision: BarrierDecision) => void
  private decided = false
  readonly decision = new Promise<BarrierDecision>((resolve) => (this.settle = resolve))

  /** true when this call decided (the first healthy primary container) */
  open(host: string): boolean {
    return this.decide({ healthy: true, host })
  }

  close(host: string, reason: string): boolean {
    return this.decide({ healthy: false, host, reason })
  }

  private decide(decision: BarrierDecision): boolean {
    if (this.decided) return false
    this.decided = true
    this.settle(decision)
    return true
  }
}

/**
 * All-or-nothing: every boot waits here once healthy; the run goes on when all are, and every
 * waiter learns of the first failure anywhere (then each switched host goes back).
 */
export class AllHealthyBarrier {
  private settle!: (decision: BarrierDecision) => void
  private decided = false
  private arrived = 0
  readonly decision = new Promise<BarrierDecision>((resolve) => (this.settle = resolve))

  constructor(private readonly expected: number) {}

  arrive(host: string): void {
    this.arrived++
    if (this.arrived >= this.expected) this.decide({ healthy: true, host })
  }

  fail(host: string, reason: string): void {
    this.decide({ healthy: false, host, reason })
  }

  private decide(decision: BarrierDecision): void {
    if (this.decided) return
    this.decided = true
    this.settle(decision)
  }
}

export interface BarrierDecision {
  healthy: boolean
  /** the host whose primary container decided */
  host: string
  reason?: string
}
