/** What happened to one role on one host. */
export interface BootOutcome {
  host: string
  role: string
  previousVersion?: string
  version: string
  container: string
  ok: boolean
  /** all-or-nothing: healthy here, put back because another boot failed */
  rolledBack?: boolean
  healthSeconds?: number
  error?: string
  logTail?: string
}

/** Raised when a role fails to boot on a host; carries what the annotation needs. */
export class BootError extends Error {
  constructor(
    readonly host: string,
    readonly role: string,
    readonly step: string,
    detail: string,
    readonly logTail?: string,
  ) {
    super(`Failed to boot ${role} on ${host} (${step}): ${detail}${logTail ? `\nLast log lines of the new container:\n${logTail}` : ''}`)
    this.name = 'BootError'
  }
}

export class LockHeldError extends Error {
  constructor(
    readonly host: string,
    readonly details: string,
  ) {
    super(
      `Deploy lock found on ${host}. Someone else is deploying, or an earlier deploy died holding it:\n${details || '(no lock details)'}\n` +
        `Wait for that deploy, or release the lock with 'kamal lock release' (or this action's command: lock release) once you are sure nothing is deploying.`,
    )
    this.name = 'LockHeldError'
  }
}

export class CancelledError extends Error {
  constructor() {
    super('The deploy was cancelled: no further host work was started; every host keeps serving a healthy version.')
    this.name = 'CancelledError'
  }
}
