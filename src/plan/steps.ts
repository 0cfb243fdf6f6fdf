/**
 * A run as data. Every command, upload and runtime decision the action makes
 * is a Step in a Plan; `command: plan` prints the plan, the executor runs
 * exactly it, and the summary reads the record of what ran.
 *
 * Values known only at run time (the old version, the new container's id, a
 * random hostname suffix) are placeholders `[[kda:name]]` inside commands; the
 * executor fills them and records the filled command.
 */
import type { HookName } from '../hooks'
import type { RunnerStep } from './runner-step'

export type { RunnerStep } from './runner-step'

/** The runner (GitHub Actions machine) is the place `local`; every other place is a host. */
export const RUNNER = 'local'

export const PHASES = ['connect', 'build', 'setup', 'pull', 'lock', 'proxy', 'accessories', 'stale', 'boot', 'tag', 'prune', 'command', 'unlock'] as const
export type Phase = (typeof PHASES)[number]

/** A placeholder filled at run time. */
// ASCII, so shell escaping of the value around it leaves it whole.
export const placeholder = (name: string): string => `[[kda:${name}]]`
export const PLACEHOLDER_PATTERN = /\[\[kda:([A-Za-z_0-9:]+)\]\]/g
/** A secret's value inside a command (a registry username kept as a secret): filled at run time, redacted in every report. */
export const secretPlaceholder = (name: string): string => placeholder(`secret:${name}`)

/** What a host command reads on its standard input (values never appear in the plan). */
export type StdinSource = { registryPassword: true } | { secret: string } | { literal: string }

/** What an upload writes: described by reference, resolved from secrets and files only when it runs. */
export type UploadContent =
  | { kind: 'role-env'; role: string }
  | { kind: 'accessory-env'; accessory: string }
  | { kind: 'accessory-file'; accessory: string; index: number }
  | { kind: 'tls'; role: string; secret: string }
  | { kind: 'local-file'; path: string }

interface Common {
  /** what the step is for, shown beside it ("password on stdin", "the version to stop afterwards") */
  note?: string
  /** true when the step changes the host (files, containers, network); false for read-only checks */
  changes: boolean
  /** run only when this placeholder has a value different from the deployed version */
  when?: string
  /** run only when this placeholder has no such value */
  unless?: string
  /**
   * the unit goes on without waiting for this step; the run waits for it before its next
   * barrier stage (an old container's stop, once its traffic has moved)
   */
  background?: boolean
  /** the next step starts without waiting for this one; the step after that waits for both */
  alongsideNext?: boolean
}

/** One command on a host. */
export interface ExecStep extends Common {
  kind: 'exec'
  command: string
  stdin?: StdinSource
  /** a non-zero exit is recorded, not fatal */
  allowFailure?: boolean
  /** a non-zero exit whose stderr matches is fine ("network already exists") */
  tolerate?: string
  /** the trimmed stdout becomes this placeholder's value */
  capture?: string
  /** keep only the first characters of the captured output (a container id's short form) */
  captureLength?: number
  /** the last line of the stdout becomes this placeholder's value (a status asked for in the same exec) */
  captureLastLine?: string
  /** names the step in an error ("docker pull", "kamal-proxy deploy") */
  label?: string
  /** the error when the captured output is empty */
  emptyIsError?: string
  /** polled while the command runs (`<status> <exit code>`): the step fails at once when the container exits */
  watch?: string
}

export interface UploadStep extends Common {
  kind: 'upload'
  path: string
  mode: number
  content: UploadContent
  /** shown instead of the content: the env keys, "from secret X", a file name */
  describe: string
  /** made first in the same command (Kamal's separate `mkdir -p`, with the shell's own umask): one round trip less */
  directory?: string
}

/** The lock directory on the primary host; a held lock fails with its holder's details. */
export interface LockStep extends Common {
  kind: 'lock'
  /** `mkdir <lock dir> && echo "[[kda:lock_details]]" > …` */
  command: string
  status: string
  message: string
}

/** kamal-proxy must be at least `minimum` where it already runs. */
export interface ProxyVersionStep extends Common {
  kind: 'proxy-version'
  command: string
  minimum: string
  /** the command answers `<running> <version>`; this placeholder is set when kamal-proxy runs */
  running?: string
}

/** Stop every running version of the role other than the current one (Kamal's stale containers). */
export interface StaleStep extends Common {
  kind: 'stale'
  role: string
  /** the running versions, then the current one (AppCommands.staleSurvey) */
  survey: string
  /** the value the current running version is kept in, for the boot that follows */
  currentInto?: string
  /** with [[kda:stale_version]] */
  stop: string
  /** set: the stale versions are kept in this value (one per line) for a StopStaleStep, and none is stopped here */
  staleInto?: string
  /**
   * A role behind kamal-proxy: asked only when a stale version is found. The version kamal-proxy
   * routes to is the current one, whatever `latest` names (after a deploy interrupted between its
   * switch and its tag, Kamal's check would take the old one for current and stop the serving one).
   */
  serving?: { command: string; service: string; containerPrefix: string }
}

/** Stop the stale versions a StaleStep found and kept (a deploy stops them once its image is on the host, as Kamal does after the build). */
export interface StopStaleStep extends Common {
  kind: 'stop-stale'
  role: string
  /** the value the StaleStep kept them in */
  versionsFrom: string
  /** with [[kda:stale_version]] */
  stop: string
}

/** A container of the version being deployed already exists: rename it out of the way. */
export interface ClashStep extends Common {
  kind: 'clash'
  role: string
  find: string
  /** with [[kda:replaced]]: the `_replaced_<16 hex>` suffix */
  audit: string
  rename: string
  /** set to 'yes' when a container was renamed */
  renamedInto?: string
}

/** Non-primary roles wait until the first primary container is healthy. */
export interface BarrierWaitStep extends Common {
  kind: 'barrier-wait'
  primaryRole: string
}

/** The first healthy primary container lets the other roles boot. */
/** All-or-nothing: wait until every boot of the run is healthy; a failure anywhere fails this boot too (and it goes back). */
export interface AllHealthyStep extends Common {
  kind: 'all-healthy'
}

export interface BarrierOpenStep extends Common {
  kind: 'barrier-open'
}

/** A role without the proxy: poll until healthy, or still running after the readiness delay. */
export interface HealthStep extends Common {
  kind: 'health'
  command: string
  /** a value holding the first answer to `command`, asked for by an earlier step in its own exec */
  initial?: string
  /** `<status> <exit code>` of the container, read when it has exited */
  watch: string
  readinessDelay: number
  deployTimeout: number
}

/** `kamal server bootstrap` on one host: Docker present, or installed where Kamal would. */
export interface EnsureDockerStep extends Common {
  kind: 'ensure-docker'
}

/** Skip the rest of the unit when `command` prints something (an accessory container exists already). */
export interface SkipIfStep extends Common {
  kind: 'skip-if'
  command: string
  message: string
}

/** Rollback: the version must exist as a container on the host, or the run ends (Kamal exits 0). */
export interface RequireVersionStep extends Common {
  kind: 'require-version'
  command: string
}

/** Wait (boot.wait between boot groups). */
export interface SleepStep extends Common {
  kind: 'sleep'
  seconds: number
}

/** A local hook `.kamal/hooks/<name>`, with Kamal's KAMAL_* variables. */
export interface HookStep extends Common {
  kind: 'hook'
  hook: HookName
  hosts: string[]
}

/** The build clone, as Kamal prepares it: clone or reset, check it is clean and at the revision, else clone once more. */
export interface CloneStep extends Common {
  kind: 'clone'
  steps: RunnerStep[]
  revision: string
  directory: string
}

/** A remote builder's `ssh` for docker's ssh:// helper: the deploy key and pinned host keys, in a 0700 directory first on PATH. */
export interface BuilderSshStep extends Common {
  kind: 'builder-ssh'
  directory: string
}

/** Remove a runner directory (the remote builder's key files after the build). */
export interface RemoveDirectoryStep extends Common {
  kind: 'remove-directory'
  path: string
}

/** Open the SSH connection to a host. */
export interface ConnectStep extends Common {
  kind: 'connect'
}

/** Registry-free delivery: serve the runner's image to the hosts over their SSH connections while `pull` runs. */
export interface ShipStep extends Common {
  kind: 'ship'
  hosts: string[]
}

/** After a failure: does kamal-proxy route the service to the new container (it took traffic before the failure)? */
export interface ServingStep extends Common {
  kind: 'serving'
  command: string
  /** the kamal-proxy service name */
  service: string
}

/** One command of `app exec`/`lock status` whose output is the command's answer. */
export interface ReportStep extends Common {
  kind: 'report'
  command: string
  /** the message when the command fails this way */
  otherwise?: { stderr: string; message: string }
  success?: string
}

// ---- steps of the commands that answer with output (app exec, logs, details, remove, build push) ----

/**
 * A command whose output is the answer (`app exec`, `server exec`): streamed to
 * the log line by line as it arrives, kept for the summary, and its exit
 * status is the step's (a non-zero one fails the run with that status).
 */
export interface StreamStep extends Common {
  kind: 'stream'
  command: string
  /** the heading of this host's output in the log and the summary ("App Host: 10.0.0.1") */
  heading: string
  /** Kamal's --raw: the output as it is, not stripped */
  rawOutput?: boolean
  /** several hosts stream at once: each line starts with its host */
  prefixLines?: boolean
}

/** A read-only command whose output is shown per host (logs, details, containers, version, audit). */
export interface ShowStep extends Common {
  kind: 'show'
  command: string
  heading: string
  /** shown instead of failing when the command exits non-zero ("Nothing found") */
  otherwise?: string
}

/**
 * A value for every later unit of the run, on any host (the primary host's
 * running version for `app exec --reuse`; "other apps are installed" for `remove`).
 */
export interface ShareStep extends Common {
  kind: 'share'
  command: string
  /** the placeholder later steps read */
  name: string
  /** keep the trimmed output only when it matches this pattern */
  keepIf?: string
  /** the value when the output is empty or not kept */
  fallback?: string
  /** said once when the value is kept */
  message?: string
  allowFailure?: boolean
}

/** `build push`: the pushed image's registry digest, read on the runner (the `digest` output). */
export interface DigestStep extends Common {
  kind: 'digest'
  argv: string[]
  display: string
  cwd: string
  image: string
  /** asked when `argv` cannot tell (buildx's imagetools cannot read a plain-HTTP registry): the runner's image store */
  fallback?: { argv: string[]; display: string }
}

export type HostStep =
  | ExecStep
  | UploadStep
  | LockStep
  | ProxyVersionStep
  | StaleStep
  | StopStaleStep
  | ClashStep
  | BarrierWaitStep
  | BarrierOpenStep
  | AllHealthyStep
  | HealthStep
  | EnsureDockerStep
  | SkipIfStep
  | RequireVersionStep
  | ReportStep
  | ServingStep
  | StreamStep
  | ShowStep
  | ShareStep
export type LocalStep = (RunnerStep & Common) | HookStep | SleepStep | ShipStep | CloneStep | BuilderSshStep | RemoveDirectoryStep | DigestStep
export type Step = HostStep | LocalStep | ConnectStep

/** Steps that run one after another on one place, with their own placeholders (one role's boot on one host, say). */
export interface Unit {
  role?: string
  steps: Step[]
  /** run when a step of the unit fails (stop the new container, keep its log tail) */
  onFailure?: Step[]
  /** this unit is a role's boot: its outcome is a row of the summary */
  boot?: { version: string; container: string }
}

/** The work of one place within a stage. */
export interface Lane {
  place: string
  units: Unit[]
}

/** A stage's lanes run in parallel; stages run in order. */
export interface Stage {
  phase: Phase
  title: string
  lanes: Lane[]
  /** runs even after a failure, when the lock is held (release the lock) */
  always?: 'lock-held'
  /** runs only when the whole run so far succeeded (post-deploy hook) */
  onSuccessOnly?: boolean
  /** why this stage waits for the one before it, when that is not obvious */
  waitsFor?: string
  /** Kamal's status line, printed when the stage starts ("Acquiring the deploy lock...") */
  announce?: string
  /**
   * When the stage's lanes start. Unset: once every earlier stage is done (a barrier).
   * 'place': each lane as soon as the earlier stages' lanes on its own place are done, plus
   * everything up to the last barrier stage and the stages named in `needs` (a per-host pipeline).
   */
  sync?: 'place'
  /** a name other stages' `needs` refer to */
  id?: string
  /** stages (by id) whose every lane must be done before any lane of this one starts */
  needs?: string[]
  /**
   * with sync 'place': wait only for these stages' lanes on the same place (by id), not for
   * every earlier one — work on one host that does not depend on each other runs side by side
   */
  placeAfter?: string[]
  /**
   * with sync 'place': start without waiting for the steps its place runs in the background (an old
   * container's stop); the place's next stage still waits for them
   */
  besideBackground?: boolean
}

export type PlanCommand = 'deploy' | 'redeploy' | 'rollback' | 'setup' | 'prune' | 'lock' | 'app' | 'accessory' | 'build' | 'proxy' | 'remove' | 'server' | 'audit'

export interface Plan {
  command: PlanCommand
  /** `release` in `lock release`, `boot` in `accessory boot` */
  subcommand?: string
  argument?: string
  service: string
  destination?: string
  version: string
  image: string
  primaryHost: string
  hosts: string[]
  roles: string[]
  stages: Stage[]
}

/** An upload step as the record shows it, `[mkdir -p <dir> && ]upload <path> (mode 0600)`; with its description as the log and the plan show it. */
export function uploadLine(step: UploadStep, { described = false } = {}): string {
  return `${step.directory ? `mkdir -p ${step.directory} && ` : ''}upload ${step.path} (mode ${step.mode.toString(8).padStart(4, '0')}${described ? `; ${step.describe}` : ''})`
}

/** Every (stage, place, unit, step) of a plan in run order per place. */
export function* walkPlan(plan: Plan): Generator<{ stage: Stage; lane: Lane; unit: Unit; step: Step; failureStep: boolean }> {
  for (const stage of plan.stages) {
    for (const lane of stage.lanes) {
      for (const unit of lane.units) {
        for (const step of unit.steps) yield { stage, lane, unit, step, failureStep: false }
        for (const step of unit.onFailure ?? []) yield { stage, lane, unit, step, failureStep: true }
      }
    }
  }
}

/** A single-lane, single-unit stage. */
export function stageOn(phase: Phase, title: string, place: string, steps: Step[], extra: Partial<Stage> & { role?: string } = {}): Stage {
  const { role, ...rest } = extra
  return { phase, title, lanes: [{ place, units: [{ role, steps }] }], ...rest }
}

/** The same steps on each of several places, in parallel. */
export function stageOnEach(phase: Phase, title: string, places: string[], steps: (place: string) => Step[], extra: Partial<Stage> = {}): Stage {
  return { phase, title, lanes: places.map((place) => ({ place, units: [{ steps: steps(place) }] })).filter((lane) => lane.units[0].steps.length > 0), ...extra }
}
