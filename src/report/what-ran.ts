/**
 * "What ran": the record of the executed steps per place, each with its exit
 * and duration, collapsed. Never the plan's text: a step that did not run is
 * not here. Bounded: past the byte budget a place's steps give way to a line
 * pointing at the `record` output, except where something failed.
 */
import type { RecordEntry } from '../execute/record'
import { RUNNER } from '../plan/steps'
import { secondsText } from './plan-index'

const fence = (body: string) => `\`\`\`sh\n${body.replace(/```/g, '`\u200b``')}\n\`\`\``

/** Entries that are the executor's own moments rather than commands: shown as comments. */
const NOT_COMMANDS = new Set(['barrier-wait', 'ship'])

export function entryLine(entry: RecordEntry, redact: (text: string) => string): string {
  const text = redact(entry.command)
  const shown = NOT_COMMANDS.has(entry.kind) ? `# ${text}` : text
  const exit = entry.code !== undefined ? `exit ${entry.code}` : entry.outcome === 'failed' ? 'failed' : undefined
  const outcome = entry.outcome === 'tolerated' ? ', tolerated' : entry.outcome === 'skipped' ? ', rest skipped' : entry.outcome === 'stopped' ? ', stopped: the run failed or was cancelled' : entry.outcome === 'failed' && entry.code !== undefined ? ', FAILED' : ''
  const status = [exit ? `${exit}${outcome}` : outcome.slice(2), secondsText(entry.endedAt - entry.startedAt)].filter(Boolean).join(' · ')
  return `${entry.role ? `[${entry.role}] ` : ''}${shown}  # ${status}`
}

function placeBlock(place: string, entries: readonly RecordEntry[], redact: (text: string) => string, maxLines: number): string {
  const lines: string[] = []
  let stage = ''
  for (const entry of entries.slice(0, maxLines)) {
    if (entry.stage !== stage) {
      stage = entry.stage
      lines.push(`${lines.length > 0 ? '\n' : ''}# ${stage}`)
    }
    lines.push(entryLine(entry, redact))
  }
  if (entries.length > maxLines) lines.push(`# … ${entries.length - maxLines} more; the record output has every step`)
  const failed = entries.filter((entry) => entry.outcome === 'failed').length
  const ms = entries.length > 0 ? Math.max(...entries.map((entry) => entry.endedAt)) - Math.min(...entries.map((entry) => entry.startedAt)) : 0
  const title = `${failed > 0 ? '❌ ' : ''}${place === RUNNER ? 'runner' : place}: ${entries.length} step(s)${failed > 0 ? `, ${failed} failed` : ''}, ${secondsText(ms)}`
  return `<details><summary>${title}</summary>\n\n${fence(lines.join('\n'))}\n\n</details>`
}

/** The places in the order a reader looks: the runner, then the hosts as the plan lists them. */
export function recordPlaces(entries: readonly RecordEntry[], hosts: readonly string[]): string[] {
  const present = new Set(entries.map((entry) => entry.place))
  return [RUNNER, ...hosts, ...present].filter((place, at, all) => present.has(place) && all.indexOf(place) === at)
}

export function recordAsMarkdown(entries: readonly RecordEntry[], redact: (text: string) => string, options: { hosts?: readonly string[]; maxBytes?: number; maxLinesPerPlace?: number } = {}): string {
  const { hosts = [], maxBytes = Infinity, maxLinesPerPlace = 400 } = options
  const blocks: string[] = []
  const left: string[] = []
  let bytes = 0
  for (const place of recordPlaces(entries, hosts)) {
    const mine = entries.filter((entry) => entry.place === place)
    let block = placeBlock(place, mine, redact, maxLinesPerPlace)
    if (bytes + Buffer.byteLength(block) + 1 > maxBytes) {
      const failed = mine.filter((entry) => entry.outcome === 'failed')
      if (failed.length === 0) {
        left.push(place)
        continue
      }
      // past the budget a failed place still shows what failed
      block = placeBlock(`${place} (failed steps only)`, failed, redact, 5)
    }
    blocks.push(block)
    bytes += Buffer.byteLength(block) + 1
  }
  const rest = left.length > 0 ? [`… and ${left.length} more places whose steps all succeeded (${left.slice(0, 5).join(', ')}${left.length > 5 ? ', …' : ''}); the \`record\` output (JSON) has every step.`, ''] : []
  return ['### What ran', '', ...blocks, '', ...rest].join('\n')
}
