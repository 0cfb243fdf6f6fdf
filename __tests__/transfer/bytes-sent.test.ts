import { bytesSentOutput, bytesSentSummaryLine } from '../../src/transfer/bytes-sent'
import { formatBytes, TransferMeter } from '../../src/transfer/transfer-meter'

test('the bytes-sent output is JSON host → bytes; the summary line names every host', () => {
  const sent = { '10.0.0.1': 4_404_019, '10.0.0.2': 512 }
  expect(JSON.parse(bytesSentOutput(sent))).toEqual(sent)
  expect(bytesSentSummaryLine(sent)).toBe('**Image transfer (registry-free, over SSH):** 10.0.0.1 ← 4.20 MiB · 10.0.0.2 ← 512 B\n')
  expect(bytesSentSummaryLine({})).toBe('')
})

test('formatBytes', () => {
  expect(formatBytes(0)).toBe('0 B')
  expect(formatBytes(1536)).toBe('1.50 KiB')
  expect(formatBytes(250 * 1024 * 1024)).toBe('250.0 MiB')
  expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.50 GiB')
})

test('the meter counts per host and prints a line with the rate only for hosts that received bytes', () => {
  jest.useFakeTimers()
  let now = 0
  const lines: string[] = []
  const meter = new TransferMeter(['a', 'b'], (line) => lines.push(line), () => now)
  meter.start(1000)
  meter.add('a', 2 * 1024 * 1024)
  now = 1000
  jest.advanceTimersByTime(1000)
  expect(lines).toEqual(['  a: 2.00 MiB sent, 2.00 MiB/s'])
  jest.advanceTimersByTime(1000)
  expect(lines).toHaveLength(1)
  meter.stop()
  jest.useRealTimers()
  expect(meter.totals()).toEqual({ a: 2 * 1024 * 1024, b: 0 })
  now = 2000
  expect(meter.summaryLines()).toEqual(['  a: 2.00 MiB (2097152 bytes) in 2.0s (1.00 MiB/s)', '  b: 0 B (0 bytes) in 2.0s (0 B/s)'])
})
