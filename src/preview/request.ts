/**
 * `command: preview`, `preview remove`, `preview sweep` and the inputs only a
 * preview reads (`preview-domain`, `preview-role`, `preview-limit`,
 * `pull-request`), read and checked in one place. Pure but for the event file.
 */
import * as fs from 'node:fs'
import { InputError } from '../errors'

export type PreviewAction = 'deploy' | 'remove' | 'sweep'

export interface PreviewRequest {
  action: PreviewAction
  /** the pull request (undefined for sweep) */
  pr?: number
  /** the wildcard domain the previews answer under, without `*.` */
  domain?: string
  /** the role previewed; default web, else the primary role */
  role?: string
  /** how many previews a host keeps at most */
  limit: number
}

export const DEFAULT_PREVIEW_LIMIT = 10

type InputReader = (name: string) => string

/** The preview action of a `command` input, undefined when it is not a preview command. */
export function previewAction(command: string): PreviewAction | undefined {
  const words = command.trim().split(/\s+/)
  if (words[0] !== 'preview') return undefined
  if (words.length === 1) return 'deploy'
  if (words.length === 2 && (words[1] === 'remove' || words[1] === 'sweep')) return words[1]
  throw new InputError('command', `'${command.trim()}' is not a preview command. Use preview (deploy the pull request's preview), preview remove or preview sweep.`)
}

/** The request of a preview command, with its inputs checked; `eventPath` is GITHUB_EVENT_PATH. */
export function readPreviewRequest(action: PreviewAction, read: InputReader, eventPath: string | undefined): PreviewRequest {
  const text = (name: string) => read(name).trim()
  const limitText = text('preview-limit')
  if (limitText !== '' && !/^[1-9][0-9]*$/.test(limitText)) throw new InputError('preview-limit', `'${limitText}' is not a number of previews. Use a whole number of 1 or more, e.g. preview-limit: 10.`)
  const limit = limitText === '' ? DEFAULT_PREVIEW_LIMIT : Number(limitText)
  const role = text('preview-role') || undefined
  if (role !== undefined && !/^[A-Za-z0-9_-]+$/.test(role)) throw new InputError('preview-role', `'${role}' is not a role name. Use a role of servers: in your config, e.g. preview-role: web.`)
  if (action === 'sweep') return { action, role, limit }
  const pr = pullRequestNumber(text('pull-request'), eventPath)
  const domain = previewDomain(text('preview-domain'), action === 'deploy')
  return { action, pr, domain, role, limit }
}

/** The `pull-request` input, else the event's `pull_request.number`. */
export function pullRequestNumber(input: string, eventPath: string | undefined): number {
  if (input !== '') {
    if (!/^[1-9][0-9]*$/.test(input)) throw new InputError('pull-request', `'${input}' is not a pull request number. Use the number alone, e.g. pull-request: \${{ github.event.pull_request.number }}.`)
    return Number(input)
  }
  const payload = readEvent(eventPath)
  const number = (payload?.pull_request as { number?: unknown } | undefined)?.number
  if (typeof number === 'number' && Number.isInteger(number) && number > 0) return number
  throw new InputError(
    'pull-request',
    `a preview needs its pull request, and ${eventPath ? `the event in ${eventPath} has no pull_request.number` : 'GITHUB_EVENT_PATH is not set'}. Run the workflow on pull_request, or set pull-request: <number>.`,
  )
}

function readEvent(eventPath: string | undefined): Record<string, unknown> | undefined {
  if (!eventPath || !fs.existsSync(eventPath)) return undefined
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(eventPath, 'utf8'))
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

const HOST_NAME = /^(?=.{1,240}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/

/** `preview-domain` (a `*.` in front is dropped); required to deploy, optional otherwise. */
export function previewDomain(input: string, required: boolean): string | undefined {
  const domain = input.replace(/^\*\./, '').replace(/\.$/, '').toLowerCase()
  if (domain === '') {
    if (required) throw new InputError('preview-domain', 'a preview needs the wildcard domain its host names go under, e.g. preview-domain: preview.example.com (a DNS *.preview.example.com record pointing at the hosts of the previewed role).')
    return undefined
  }
  if (!HOST_NAME.test(domain)) throw new InputError('preview-domain', `'${input}' is not a domain name. Use a name such as preview.example.com (letters, digits, '-' and dots).`)
  return domain
}
