import { formatBytes } from './transfer-meter'

/** Bytes the runner sent to each host during a registry-free pull: host → bytes. */
export type BytesSent = Record<string, number>

/** The `bytes-sent` action output: a JSON object host → bytes. */
export function bytesSentOutput(bytesSent: BytesSent): string {
  return JSON.stringify(bytesSent)
}

/** The job summary line, e.g. `**Image transfer (registry-free, over SSH):** 10.0.0.1 ← 4.20 MiB · 10.0.0.2 ← 4.20 MiB` */
export function bytesSentSummaryLine(bytesSent: BytesSent): string {
  const hosts = Object.entries(bytesSent)
  if (hosts.length === 0) return ''
  return `**Image transfer (registry-free, over SSH):** ${hosts.map(([host, bytes]) => `${host} ← ${formatBytes(bytes)}`).join(' · ')}\n`
}
