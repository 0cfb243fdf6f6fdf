/**
 * The keys of Kamal's documented config that the action does not carry out.
 * Every other documented key changes what a run does (a test checks each).
 */

/** Refused at its file:line before anything runs: the action cannot do what the key asks. */
export interface RefusedKey {
  /** dotted path, `*` for a role/accessory/alias name */
  key: string
  /** the refusal's message contains this */
  reason: string
  /** a value that triggers the refusal, for the test */
  example: unknown
}

export const REFUSED_KEYS: RefusedKey[] = [
  { key: 'output.otel', reason: 'output.otel', example: { endpoint: 'http://otel:4318' } },
]

/** Accepted and ignored by Kamal 2.12 itself; the action does the same. */
export interface IgnoredKey {
  key: string
  reason: string
}

export const KAMAL_IGNORED_KEYS: IgnoredKey[] = [
  { key: 'run_directory', reason: 'Kamal 2 fixed the run directory at .kamal so every app on a host shares it; the key is accepted and unused' },
]
