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

export interface BarrierDecision {
  healthy: boolean
  /** the host whose primary container decided */
  host: string
  reason?: string
}
