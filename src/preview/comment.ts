/** The text of a preview's sticky pull-request comment (pure). */
import { commentMarker } from './naming'

export type PreviewStatus = 'deploying' | 'success' | 'failed' | 'cancelled' | 'removed' | 'refused'

export interface PreviewCommentState {
  service: string
  pr: number
  status: PreviewStatus
  url?: string
  commit?: string
  /** link to the commit on GitHub */
  commitUrl?: string
  /** seconds the run took */
  seconds?: number
  /** link to the workflow run */
  runUrl?: string
  /** why it failed or was refused */
  detail?: string
  at: Date
}

const STATUS: Record<PreviewStatus, string> = {
  deploying: '⏳ Deploying',
  success: '✅ Deployed',
  failed: '❌ Failed',
  cancelled: '⚪ Cancelled',
  removed: '🗑️ Removed',
  refused: '⛔ Not deployed',
}

/** The comment: the marker first (how later runs find it), then URL, commit, status and time taken. */
export function previewCommentBody(state: PreviewCommentState): string {
  const rows: Array<[string, string]> = []
  const live = state.status !== 'removed'
  if (state.url) rows.push(['URL', live ? `[${state.url}](${state.url})` : `~~${state.url}~~`])
  if (state.commit) rows.push(['Commit', state.commitUrl ? `[\`${state.commit.slice(0, 7)}\`](${state.commitUrl})` : `\`${state.commit.slice(0, 7)}\``])
  rows.push(['Status', state.runUrl ? `${STATUS[state.status]} ([run](${state.runUrl}))` : STATUS[state.status]])
  if (state.seconds !== undefined) rows.push(['Took', formatSeconds(state.seconds)])
  rows.push(['Updated', `${state.at.toISOString().replace(/\.\d+Z$/, 'Z').replace('T', ' ')}`])
  const lines = [
    commentMarker(state.service),
    `### Preview of \`${state.service}\` for #${state.pr}`,
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([key, value]) => `| ${key} | ${value.replace(/\|/g, '\\|')} |`),
  ]
  if (state.status === 'removed') lines.push('', 'The preview was removed: its containers, images, env files and proxy route are gone from every host.')
  if (state.detail) lines.push('', '```', state.detail.slice(0, 2000), '```')
  return lines.join('\n')
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  const minutes = Math.floor(seconds / 60)
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`
}

/** The id of this service's sticky comment among the PR's comments: the first carrying the marker. */
export function findMarkedComment(comments: ReadonlyArray<{ id: number; body?: string | null }>, service: string): number | undefined {
  const marker = commentMarker(service)
  return comments.find((comment) => (comment.body ?? '').includes(marker))?.id
}
