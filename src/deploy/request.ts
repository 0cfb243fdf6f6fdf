import type { KamalConfig } from '../config/model'
import type { Targets } from '../plan/targets'
import type { Secrets } from '../secrets/load'
import type { BytesSent } from '../transfer/bytes-sent'
import type { HostPool } from './hosts'
import type { Progress } from './progress'

export type DeployCommand = 'deploy' | 'redeploy' | 'rollback' | 'setup'
/** Every command that goes to the hosts (KAMAL_COMMAND for hooks). */
export type HostCommand = DeployCommand | 'prune' | 'lock' | 'app' | 'accessory'

/** Everything a run toward the hosts needs; built by main.ts from the inputs and the prepared config. */
export interface DeployRequest {
  command: HostCommand
  /** `release` in `lock release`, … (KAMAL_SUBCOMMAND) */
  subcommand?: string
  config: KamalConfig
  targets: Targets
  secrets: Secrets
  pool: HostPool
  progress: Progress
  projectDir: string
  performer: string
  lockedBy: string
  skipPush: boolean
  registryUser: string
  registryPassword?: string
  /** the roles input, when given (KAMAL_ROLES for hooks) */
  rolesFilter?: string[]
  /** the environment hooks inherit */
  env: NodeJS.ProcessEnv
  /** the deploy key(s) and pinned known_hosts, for a builder.remote reached over ssh:// */
  remoteBuilderSsh?: { privateKeys: string[]; knownHosts?: string }
  /** called once the lock is held / released, so the post step can release it if this step dies */
  onLock?: (state: { host: string; directory: string } | null) => void
  /** true once the job was asked to stop: no new host work starts */
  cancelled?: () => boolean
  /** how many hosts get work at once */
  parallelism?: number
  /** filled as roles boot (also on failure), for the summary */
  boots: BootOutcome[]
  /** filled by a registry-free (`registry.server: localhost:PORT`) pull: host → bytes sent, for the `bytes-sent` output */
  bytesSent?: BytesSent
}

/** What happened to one role on one host. */
export interface BootOutcome {
  host: string
  role: string
  previousVersion?: string
  version: string
  container: string
  ok: boolean
  healthSeconds?: number
  error?: string
  logTail?: string
}

export interface DeployOutcome {
  /** a rollback target that does not exist: Kamal prints it and exits 0 */
  unavailableVersion?: boolean
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
