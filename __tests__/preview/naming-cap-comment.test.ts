import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { capRefusal, allPreviews, sweepTargets } from '../../src/preview/cap'
import { findMarkedComment, formatSeconds, previewCommentBody } from '../../src/preview/comment'
import { commentMarker, previewHost, previewNumber, previewNumbers, previewService } from '../../src/preview/naming'
import { DEFAULT_PREVIEW_LIMIT, previewAction, previewDomain, pullRequestNumber, readPreviewRequest } from '../../src/preview/request'

describe('preview names', () => {
  test('service, host and the PR number read back from a service label', () => {
    expect(previewService('shop', 12)).toBe('shop-pr-12')
    expect(previewHost(12, 'preview.example.com')).toBe('pr-12.preview.example.com')
    expect(previewNumber('shop', 'shop-pr-12')).toBe(12)
    for (const other of ['shop', 'shop-pr-', 'shop-pr-x', 'shopx-pr-1', 'xshop-pr-1', 'shop-pr-01', 'shop-pr-1-web', 's.op-pr-1']) expect(previewNumber('shop', other)).toBeUndefined()
    expect(previewNumber('s.op', 'sxop-pr-1')).toBeUndefined()
    expect(previewNumbers('shop', ['shop', 'shop-pr-3', 'shop-pr-12', 'shop-pr-3', 'other-pr-4', '', 'shop-pr-2 '])).toEqual([2, 3, 12])
  })
})

describe('the preview cap and the sweep', () => {
  const found = new Map([
    ['vm1', [1, 2, 3]],
    ['vm2', [1, 2]],
  ])
  test('a new preview over the limit on any host is refused, naming the host, the previews there and the fixes', () => {
    expect(capRefusal(found, 4, 4)).toBeUndefined()
    expect(capRefusal(found, 4, 3)).toBe(
      'a preview of #4 would be preview 4 on vm1, over the limit of 3 (it has #1, #2, #3). Close or remove a preview first (command: preview remove with pull-request: <N>, or command: preview sweep for closed ones), or raise preview-limit.',
    )
  })
  test('a redeploy of a preview already there always fits', () => {
    expect(capRefusal(found, 3, 3)).toBeUndefined()
    expect(capRefusal(found, 1, 1)).toBeUndefined()
  })
  test('previews across hosts; the sweep removes closed ones and keeps open and unknown', () => {
    expect(allPreviews(found)).toEqual([1, 2, 3])
    expect(sweepTargets([1, 2, 3], new Map([[1, 'closed'], [2, 'open'], [3, 'unknown']] as const))).toEqual([1])
  })
})

describe('the sticky comment', () => {
  const at = new Date('2026-03-04T05:06:07.890Z')
  test('carries the marker, URL, commit, status, time taken', () => {
    const body = previewCommentBody({ service: 'shop', pr: 5, status: 'success', url: 'https://pr-5.p.test', commit: 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed', commitUrl: 'https://github.test/a/b/commit/f00d', runUrl: 'https://github.test/run/1', seconds: 42.25, at })
    expect(body.split('\n')[0]).toBe(commentMarker('shop'))
    expect(body).toContain('| URL | [https://pr-5.p.test](https://pr-5.p.test) |')
    expect(body).toContain('| Commit | [`f00dfee`](https://github.test/a/b/commit/f00d) |')
    expect(body).toContain('| Status | ✅ Deployed ([run](https://github.test/run/1)) |')
    expect(body).toContain('| Took | 42.3 s |')
    expect(body).toContain('| Updated | 2026-03-04 05:06:07Z |')
  })
  test('says when the preview is removed, and why a run failed', () => {
    const removed = previewCommentBody({ service: 'shop', pr: 5, status: 'removed', url: 'http://pr-5.p.test', at })
    expect(removed).toContain('🗑️ Removed')
    expect(removed).toContain('~~http://pr-5.p.test~~')
    expect(removed).toContain('containers, images, env files and proxy route are gone')
    expect(previewCommentBody({ service: 'shop', pr: 5, status: 'refused', detail: 'over the limit', at })).toContain('```\nover the limit\n```')
  })
  test('is found by its own service marker only', () => {
    const comments = [
      { id: 1, body: 'LGTM' },
      { id: 2, body: `${commentMarker('shop-admin')}\nother service` },
      { id: 3, body: `${commentMarker('shop')}\nours` },
      { id: 4, body: null },
    ]
    expect(findMarkedComment(comments, 'shop')).toBe(3)
    expect(findMarkedComment(comments, 'shop-admin')).toBe(2)
    expect(findMarkedComment(comments, 'api')).toBeUndefined()
  })
  test('durations', () => {
    expect(formatSeconds(3.04)).toBe('3.0 s')
    expect(formatSeconds(125.6)).toBe('2 min 6 s')
  })
})

describe('preview inputs', () => {
  const reader = (values: Record<string, string>) => (name: string) => values[name] ?? ''
  const eventFile = (payload: unknown) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kda-event-')), 'event.json')
    fs.writeFileSync(file, JSON.stringify(payload))
    return file
  }

  test('the command words', () => {
    expect(previewAction('deploy')).toBeUndefined()
    expect(previewAction('preview')).toBe('deploy')
    expect(previewAction(' preview  remove ')).toBe('remove')
    expect(previewAction('preview sweep')).toBe('sweep')
    expect(() => previewAction('preview delete')).toThrow("Input 'command': 'preview delete' is not a preview command. Use preview (deploy the pull request's preview), preview remove or preview sweep.")
  })

  test('the PR number comes from the pull-request input, else the event payload', () => {
    const event = eventFile({ action: 'opened', number: 9, pull_request: { number: 9, head: { sha: 'abc' } } })
    expect(pullRequestNumber('', event)).toBe(9)
    expect(pullRequestNumber('21', event)).toBe(21)
    expect(() => pullRequestNumber('#21', event)).toThrow("Input 'pull-request': '#21' is not a pull request number")
    expect(() => pullRequestNumber('', eventFile({ ref: 'refs/heads/main' }))).toThrow(/Input 'pull-request': a preview needs its pull request, and the event in .* has no pull_request.number. Run the workflow on pull_request, or set pull-request: <number>./)
    expect(() => pullRequestNumber('', undefined)).toThrow('GITHUB_EVENT_PATH is not set')
  })

  test('the domain: required to deploy, a leading *. dropped, anything else refused', () => {
    expect(previewDomain('*.Preview.Example.com', true)).toBe('preview.example.com')
    expect(previewDomain('', false)).toBeUndefined()
    expect(() => previewDomain('', true)).toThrow("Input 'preview-domain': a preview needs the wildcard domain")
    expect(() => previewDomain('https://x.test', true)).toThrow("Input 'preview-domain': 'https://x.test' is not a domain name")
  })

  test('limit and role', () => {
    const event = eventFile({ pull_request: { number: 3 } })
    expect(readPreviewRequest('deploy', reader({ 'preview-domain': 'p.test' }), event)).toEqual({ action: 'deploy', pr: 3, domain: 'p.test', role: undefined, limit: DEFAULT_PREVIEW_LIMIT })
    expect(readPreviewRequest('sweep', reader({ 'preview-limit': '2', 'preview-role': 'api' }), undefined)).toEqual({ action: 'sweep', role: 'api', limit: 2 })
    expect(readPreviewRequest('remove', reader({}), event)).toEqual({ action: 'remove', pr: 3, domain: undefined, role: undefined, limit: DEFAULT_PREVIEW_LIMIT })
    expect(() => readPreviewRequest('deploy', reader({ 'preview-limit': '0', 'preview-domain': 'p.test' }), event)).toThrow("Input 'preview-limit': '0' is not a number of previews. Use a whole number of 1 or more, e.g. preview-limit: 10.")
    expect(() => readPreviewRequest('deploy', reader({ 'preview-role': 'we b', 'preview-domain': 'p.test' }), event)).toThrow("Input 'preview-role'")
  })
})
