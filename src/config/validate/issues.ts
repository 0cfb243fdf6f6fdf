import { isHash } from './ruby-values'

export type PathSegment = string | number

export interface ConfigIssue {
  /** Kamal's context, e.g. ['servers','web','hosts',0]; the message is shown as `${path.join('/')}: ${message}` (just message when path is empty) */
  path: PathSegment[]
  /** Kamal's wording, e.g. 'unknown key: foo', 'should be a string', 'is required' */
  message: string
  /** the node to annotate in the user's file, when it differs from `path` (e.g. the unknown key itself: ['builder','foo']) */
  focus?: PathSegment[]
  /** true when the annotation should point at the key token of `focus` rather than its value (unknown keys; required-key errors point at the parent) */
  focusKey?: boolean
  /** one sentence telling the user how to fix it */
  hint: string
}

export interface IssueTarget {
  /** node to annotate; defaults to the issue's path */
  focus?: PathSegment[]
  /** annotate the key token of the focus node instead of its value */
  focusKey?: boolean
}

/**
 * Collects issues in the order Kamal would raise them. Each issue is
 * normalised here so the rule code can stay simple:
 * - Kamal drops blank context segments when it builds the message path, so
 *   the shown path does too, while the focus keeps the real location;
 * - a focus on a node that is not in the file (a missing key) moves up to the
 *   nearest node that is, pointing at its key.
 */
export class IssueCollector {
  readonly issues: ConfigIssue[] = []
  private readonly seen = new Set<string>()

  constructor(private readonly root: unknown) {}

  add(path: PathSegment[], message: string, hint: string, target: IssueTarget = {}): void {
    const shownPath = path.filter((segment) => typeof segment === 'number' || segment.trim() !== '')
    const identity = JSON.stringify([shownPath, message])
    if (this.seen.has(identity)) return
    this.seen.add(identity)

    const issue: ConfigIssue = { path: shownPath, message, hint }
    const focus = this.existingNode(target.focus ?? path)
    const focusKey = focus.length > 0 && (target.focusKey === true || focus.length < (target.focus ?? path).length)
    if (!samePath(focus, shownPath) || focusKey) issue.focus = focus
    if (focusKey) issue.focusKey = true
    this.issues.push(issue)
  }

  /** The longest prefix of `path` that names a node present in the config. */
  private existingNode(path: PathSegment[]): PathSegment[] {
    let node: unknown = this.root
    const found: PathSegment[] = []
    for (const segment of path) {
      if (Array.isArray(node) && typeof segment === 'number' && segment < node.length) {
        node = node[segment]
      } else if (isHash(node) && Object.prototype.hasOwnProperty.call(node, String(segment))) {
        node = node[String(segment)]
      } else {
        break
      }
      found.push(segment)
    }
    return found
  }
}

function samePath(a: PathSegment[], b: PathSegment[]): boolean {
  return a.length === b.length && a.every((segment, index) => segment === b[index])
}
