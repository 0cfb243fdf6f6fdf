/** Bytes sent to each host, with a periodic progress line per host that is receiving. */
export class TransferMeter {
  private readonly sent = new Map<string, number>()
  private readonly reported = new Map<string, number>()
  private readonly started: number
  private timer?: NodeJS.Timeout

  constructor(
    hosts: string[],
    private readonly say: (line: string) => void,
    private readonly clock: () => number = Date.now,
  ) {
    for (const host of hosts) this.sent.set(host, 0)
    this.started = clock()
  }

  add(host: string, bytes: number): void {
    this.sent.set(host, (this.sent.get(host) ?? 0) + bytes)
  }

  /** Prints `<host>: <sent> sent, <rate>` every `intervalMs` for each host whose count moved. */
  start(intervalMs = 2000): void {
    let last = this.clock()
    this.timer = setInterval(() => {
      const now = this.clock()
      for (const [host, bytes] of this.sent) {
        const before = this.reported.get(host) ?? 0
        if (bytes === before) continue
        this.say(`  ${host}: ${formatBytes(bytes)} sent, ${formatBytes(((bytes - before) * 1000) / Math.max(now - last, 1))}/s`)
        this.reported.set(host, bytes)
      }
      last = now
    }, intervalMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  bytesSent(host: string): number {
    return this.sent.get(host) ?? 0
  }

  /** host → bytes, for the `bytes-sent` output */
  totals(): Record<string, number> {
    return Object.fromEntries(this.sent)
  }

  /** One line per host: total and average rate since the start. */
  summaryLines(): string[] {
    const seconds = Math.max((this.clock() - this.started) / 1000, 0.001)
    return [...this.sent].map(([host, bytes]) => `  ${host}: ${formatBytes(bytes)} (${bytes} bytes) in ${seconds.toFixed(1)}s (${formatBytes(bytes / seconds)}/s)`)
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`
}
