/**
 * Rules shared by roles and accessories for what ends up on `docker run`:
 * reserved labels and the restart policy.
 */
import type { IssueCollector, PathSegment } from './issues'
import { isBlank, isHash } from './ruby-values'

const RESERVED_LABELS = ['destination', 'role', 'service']

export function checkReservedLabels(c: IssueCollector, labels: unknown, path: PathSegment[]): void {
  if (isBlank(labels) || !isHash(labels)) return
  for (const key of Object.keys(labels)) {
    if (!RESERVED_LABELS.includes(key)) continue
    c.add(
      [...path, 'labels', key],
      'invalid label. destination, role, and service are reserved labels',
      `Kamal sets the ${key} label itself; rename this label (e.g. \`app-${key}\`).`,
      { focusKey: true },
    )
  }
}

const RESTART_POLICY = /^(?:no|always|unless-stopped|on-failure(?::\d+)?)$/

export function checkRestartPolicy(c: IssueCollector, options: unknown, path: PathSegment[]): void {
  if (!isHash(options)) return
  const key = Object.keys(options).find((name) => name === 'restart')
  if (key === undefined) return
  const policy = options[key]
  const policyPath = [...path, 'options', 'restart']
  if (typeof policy !== 'string') {
    const hint =
      policy === false
        ? 'Quote it: `restart: "no"` (a bare no is read as false).'
        : 'Write the policy as text, e.g. `restart: always` or `restart: "no"`.'
    c.add(policyPath, 'should be a string. Use "no" to disable restarts', hint)
    return
  }
  if (!RESTART_POLICY.test(policy)) {
    c.add(
      policyPath,
      'should be no, always, unless-stopped, on-failure, or on-failure:N',
      'Use one of no, always, unless-stopped, on-failure or on-failure:N (N = maximum retries).',
    )
  }
}
