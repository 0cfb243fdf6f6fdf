/**
 * A failed or cancelled run in three lines: where it failed and why (one
 * sentence), what each host serves now, and what to do next.
 */
import { RemoteCommandError } from '../deploy/hosts'
import { BootError, CancelledError, LockHeldError } from '../deploy/request'
import { ConfigError } from '../errors'
import type { RecordEntry } from '../execute/record'
import { RUNNER } from '../plan/steps'
import type { RunFacts } from './facts'
import type { HostRow } from './host-rows'
import { shortVersion } from './plan-index'

export interface FailureView {
  host?: string
  role?: string
  stage?: string
  cause: string
  servingNow: string
  next: string
}

const MAX_SENTENCE = 220

/** The first line, without a trailing colon, cut to a sentence's length. */
export function oneSentence(text: string): string {
  const line = text.split('\n').map((item) => item.trim()).find(Boolean) ?? ''
  const trimmed = line.replace(/[:\s]+$/, '')
  return trimmed.length > MAX_SENTENCE ? `${trimmed.slice(0, MAX_SENTENCE - 1)}…` : trimmed
}

/** `docker pull on vm1 failed with exit status 1: <command>\n<output>` → the step, its exit and the output's last line. */
function commandFailure(text: string): string | undefined {
  const match = /^(.*?) failed with exit status (\d+): /.exec(text)
  if (!match) return undefined
  // BootError appends the container's log tail; the cause is the command's own output
  const output = text.split('\nLast log lines')[0].split('\n').slice(1).map((line) => line.trim()).filter(Boolean)
  const [step] = match[1].split(' on ')
  const last = output[output.length - 1]
  return `\`${step}\` exited with status ${match[2]}${last ? `: ${last}` : ''}`
}

function causeOf(failure: unknown, failedBoot: HostRow | undefined): string {
  if (failure instanceof CancelledError) return 'The job was cancelled: no new host work started after that.'
  if (failure instanceof LockHeldError) return `The deploy lock on ${failure.host} is held (${oneSentence(failure.details) || 'no details'}).`
  const bootText = failedBoot?.error ?? (failure instanceof BootError ? failure.message : undefined)
  if (bootText) {
    const detail = bootText.replace(/^Failed to boot \S+ on \S+ \([^)]*\): /, '')
    return oneSentence(commandFailure(detail) ?? detail)
  }
  if (failure instanceof RemoteCommandError) return oneSentence(commandFailure(failure.message) ?? failure.message)
  if (failure instanceof Error) return oneSentence(failure.message)
  return oneSentence(String(failure ?? 'unknown failure'))
}

/** The first failed step in time, a host's own failure before a refusal at the barrier. */
function firstFailedEntry(record: readonly RecordEntry[]): RecordEntry | undefined {
  const failed = record.filter((entry) => entry.outcome === 'failed').sort((a, b) => a.endedAt - b.endedAt)
  return failed.find((entry) => entry.kind !== 'barrier-wait') ?? failed[0]
}

function servingNow(facts: RunFacts, rows: readonly HostRow[]): string {
  if (rows.length === 0 || rows.every((row) => row.state === 'not reached')) return 'Every host serves what it served before: no new container took traffic.'
  const byVersion = new Map<string, string[]>()
  for (const row of rows) {
    const serves = row.state === 'ok' ? `\`${shortVersion(row.after)}\` (new)` : row.before ? `\`${shortVersion(row.before)}\` (as before)` : row.state === 'not reached' ? 'what it served before' : 'nothing (no earlier version)'
    const list = byVersion.get(serves) ?? []
    list.push(`${row.host} ${row.role}`)
    byVersion.set(serves, list)
  }
  const parts = [...byVersion].map(([serves, where]) => `${where.length > 6 ? `${where.slice(0, 6).join(', ')} and ${where.length - 6} more` : where.join(', ')}: ${serves}`)
  const lockLeft = lockLeftHeld(facts)
  return `${parts.join(' · ')}.${lockLeft ? ` The deploy lock is still held on ${lockLeft}.` : ''}`
}

/** The host whose lock this run took and did not release. */
function lockLeftHeld(facts: RunFacts): string | undefined {
  const taken = facts.record.find((entry) => entry.kind === 'lock' && entry.outcome === 'ok')
  if (!taken) return undefined
  const released = facts.record.some((entry) => entry.stage === 'Release deploy lock' && entry.outcome === 'ok')
  return released ? undefined : taken.place
}

function nextStep(facts: RunFacts, failure: unknown, rows: readonly HostRow[]): string {
  const lockLeft = lockLeftHeld(facts)
  if (failure instanceof LockHeldError) return 'Wait for that deploy to finish; if none is running, run this action with `command: lock release`, then deploy again.'
  if (lockLeft) return `Release the lock with \`command: lock release\` once nothing is deploying, then fix the cause and deploy again.`
  if (failure instanceof CancelledError || facts.result === 'cancelled') return 'Re-run the job to deploy again; the hosts are consistent as shown.'
  if (failure instanceof ConfigError) return `Fix ${failure.location ? `${failure.location.file}:${failure.location.line}` : 'the config'} as the message says, then deploy again.`
  const previous = rows.find((row) => row.before && row.before !== row.after)?.before
  const bootFailed = rows.some((row) => row.state === 'failed')
  const rollback = previous && rows.some((row) => row.state === 'ok') ? ` Hosts already on the new version can go back with \`command: rollback\` and \`version: ${previous}\`.` : ''
  if (bootFailed) return `Fix the app (its log tail is below) and deploy again.${rollback}`
  return `Fix the cause above and re-run the job.${rollback}`
}

export function failureView(facts: RunFacts, rows: readonly HostRow[]): FailureView | undefined {
  if (facts.result !== 'failed' && facts.result !== 'cancelled') return undefined
  const entry = firstFailedEntry(facts.record)
  const failedBoot = rows.find((row) => row.state === 'failed' && row.host === entry?.place && row.role === entry?.role) ?? rows.find((row) => row.state === 'failed')
  const host = failedBoot?.host ?? (entry && entry.place !== RUNNER ? entry.place : undefined) ?? errorHost(facts.failure)
  return {
    host: facts.result === 'cancelled' ? undefined : host,
    role: facts.result === 'cancelled' ? undefined : failedBoot?.role ?? entry?.role,
    stage: failedBoot ? undefined : entry?.stage,
    cause: causeOf(facts.failure, failedBoot),
    servingNow: servingNow(facts, rows),
    next: nextStep(facts, facts.failure, rows),
  }
}

/** The host a failure names (RemoteCommandError, LockHeldError, BootError carry one). */
function errorHost(failure: unknown): string | undefined {
  const host = (failure as { host?: unknown } | undefined)?.host
  return typeof host === 'string' ? host : undefined
}

/** Hosts where a step or a boot failed (not those held back by another host's failure). */
export function failedHosts(facts: RunFacts, rows: readonly HostRow[]): string[] {
  const fromRecord = facts.record.filter((entry) => entry.outcome === 'failed' && entry.kind !== 'barrier-wait' && entry.place !== RUNNER).map((entry) => entry.place)
  const fromBoots = rows.filter((row) => row.state === 'failed').map((row) => row.host)
  const hostOf = errorHost(facts.failure)
  const fromError = facts.result === 'failed' && hostOf && !(facts.failure instanceof LockHeldError) ? [hostOf] : []
  const all = new Set([...fromBoots, ...fromRecord, ...fromError])
  return facts.plan.hosts.filter((host) => all.has(host))
}
