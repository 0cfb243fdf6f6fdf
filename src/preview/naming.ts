/** Names of one pull request's preview, derived from the app's service (pure). */

/** The preview's own Kamal service: its containers, labels, env files, lock and audit log. */
export const previewService = (service: string, pr: number): string => `${service}-pr-${pr}`

/** The host name kamal-proxy routes to the preview: `pr-<N>.<preview-domain>`. */
export const previewHost = (pr: number, domain: string): string => `pr-${pr}.${domain}`

/** The GitHub environment of the preview's deployment. */
export const previewEnvironment = (pr: number): string => `pr-${pr}`

/** The preview's `latest` tag: its own, so it never moves the app's `latest`. */
export const previewLatestTag = (pr: number, destination?: string): string => ['latest', destination, `pr-${pr}`].filter(Boolean).join('-')

/** The hidden marker that finds this service's sticky comment on the pull request. */
export const commentMarker = (service: string): string => `<!-- kamal-deploy-action:preview service=${service} -->`

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The PR number of a preview service name (`shop-pr-12` → 12), undefined for anything else (`shop`, `shop-pr-x`, `shopx-pr-1`). */
export function previewNumber(service: string, name: string): number | undefined {
  const match = new RegExp(`^${escape(service)}-pr-([1-9][0-9]*)$`).exec(name)
  return match ? Number(match[1]) : undefined
}

/** The PR numbers among the `service` labels found on a host, sorted, each once. */
export function previewNumbers(service: string, labels: readonly string[]): number[] {
  const numbers = labels.map((label) => previewNumber(service, label.trim())).filter((n): n is number => n !== undefined)
  return [...new Set(numbers)].sort((a, b) => a - b)
}
