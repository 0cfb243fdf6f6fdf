/** The job summary section of the commands that answer per host (app exec, logs, details, audit…). */
import type { CommandOutput } from '../../execute/executor'

const MAX_LINES = 200

/** One collapsible block per host, its last MAX_LINES lines in a code block; empty when nothing was shown. */
export function outputsMarkdown(title: string, outputs: CommandOutput[]): string {
  if (outputs.length === 0) return ''
  const blocks = outputs.map((output) => {
    const lines = output.text.split('\n')
    const shown = lines.slice(-MAX_LINES)
    const cut = lines.length > shown.length ? `(last ${MAX_LINES} of ${lines.length} lines)\n` : ''
    const status = output.code === 0 ? '' : ` — exit ${output.code}`
    const fence = '`'.repeat(Math.max(3, ...(output.text.match(/`+/g) ?? []).map((run) => run.length + 1)))
    return `<details open><summary>${escapeHtml(output.heading)}${status}</summary>\n\n${cut}${fence}text\n${shown.join('\n')}\n${fence}\n\n</details>`
  })
  return `\n### ${escapeHtml(title)}\n\n${blocks.join('\n\n')}\n`
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
