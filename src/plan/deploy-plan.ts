/**
 * Every run toward the hosts as one Plan (spec §1): deploy, setup, redeploy,
 * rollback and the maintenance commands. Pure: the facts it needs about the
 * runner and the project (hook files, error pages, the build's steps) are
 * gathered before it is called.
 */
import { AppCommands } from '../commands/app'
import { Auditor } from '../commands/auditor'
import { makeDirectory, together } from '../commands/base'
import type { ErrorPagesUpload } from '../commands/error-pages'
import { LockCommands } from '../commands/lock'
import { PruneCommands } from '../commands/prune'
import { createNetwork, ensureProxyAppsDirectory, proxyResume, proxyStartOrRun, proxyStop, proxyVersionAndState } from '../commands/proxy'
import { pullCommands, registryLogin } from '../commands/registry'
import type { AccessorySettings } from '../config/accessory'
import { DEFAULT_PROXY_IMAGE_VERSION, type KamalConfig } from '../config/model'
import type { HookName } from '../hooks'
import { accessoryBootStages, accessoryRebootStages, accessoryRemoveStages, type AccessoryPlanContext } from './accessory-plan'
import { beforeBootStage, bootStages } from './boot-plan'
import { bootPlan, bootSettings } from './boot-groups'
import { InputError } from '../errors'
import { placeholder, RUNNER, stageOn, stageOnEach, type LocalStep, type Plan, type PlanCommand, type Stage, type Step } from './steps'
import type { Targets } from './targets'
import { commandStages } from './commands/dispatch'
import type { CommandOptions } from '../inputs'

export { hostnamePrefix } from './boot-plan'
export type { PlanCommand } from './steps'

export interface PlanRequest {
  command: PlanCommand
  subcommand?: string
  argument?: string
  skipPush: boolean
  performer: string
  /** the registry username as it goes into `docker login` commands: the literal, or a secret placeholder */
  registryUser: string
  /** the hook files that exist (a hook step is planned only for those) */
  hooks: ReadonlySet<HookName>
  /** the runner's build steps (planBuild and the clone and ssh around it), when this run builds */
  build: LocalStep[]
  errorPages?: ErrorPagesUpload
  /** the accessories an `accessory` command (or setup) acts on */
  accessories: AccessorySettings[]
  now?: () => Date
  /** Kamal's options from the command input (`--reuse`, `-n 50`, `-m MSG`, `--rolling`) */
  options?: CommandOptions
  /** what `app exec` / `server exec` / `accessory exec` runs */
  commandLine?: string
  /** the version was given (input or --version), not the default */
  explicitVersion?: boolean
  /** the `confirm` input or -y: `remove` and `proxy reboot` go ahead */
  confirm?: boolean
  /** the registry digest step after `build push` */
  digest?: Step
  /** the all-or-nothing input (deploy, redeploy) */
  allOrNothing?: boolean
}

/** The value the stale versions found under the lock are kept in until they are stopped. */
const STALE_VERSIONS = 'stale_versions'

const exec = (command: string, extra: Partial<Extract<Step, { kind: 'exec' }>> = {}): Step => ({ kind: 'exec', command, changes: true, ...extra })
const readOnly = (command: string, extra: Partial<Extract<Step, { kind: 'exec' }>> = {}): Step => ({ kind: 'exec', command, changes: false, ...extra })

export function buildPlan(config: KamalConfig, targets: Targets, request: PlanRequest): Plan {
  const auditor = new Auditor(config, request.performer, request.now)
  const login = registryLogin(config, request.registryUser)
  const parts = new PlanParts(config, targets, request, auditor, login)
  const stages = (() => {
    switch (request.command) {
      case 'deploy':
      case 'setup':
      case 'redeploy':
      case 'rollback':
        return parts.deployStages()
      default:
        return commandStages(parts) ?? parts.operationStages()
    }
  })()
  return {
    command: request.command,
    subcommand: request.subcommand,
    argument: request.argument,
    service: config.service,
    destination: config.destination,
    version: config.version,
    image: config.absoluteImage,
    primaryHost: targets.primaryHost,
    hosts: targets.hosts,
    roles: targets.roles.map((role) => role.name),
    stages,
  }
}

export class PlanParts {
  constructor(
    readonly config: KamalConfig,
    readonly targets: Targets,
    readonly request: PlanRequest,
    readonly auditor: Auditor,
    readonly login: string | undefined,
  ) {}

  hook(hook: HookName, hosts = this.targets.hosts, extra: Partial<Stage> = {}): Stage[] {
    if (!this.request.hooks.has(hook)) return []
    return [stageOn('connect', `Hook ${hook}`, RUNNER, [{ kind: 'hook', hook, hosts, changes: true }], extra)]
  }

  connect(): Stage {
    return stageOnEach('connect', 'Connect', this.targets.hosts, () => [{ kind: 'connect', changes: false }])
  }

  loginStep(): Step[] {
    return this.login ? [exec(this.login, { stdin: { registryPassword: true }, label: 'docker login', note: 'password on stdin' })] : []
  }

  /** `mkdir -p .kamal` everywhere, then the lock directory on the primary host. */
  lock(message = 'Automatic deploy lock'): Stage[] {
    const lock = new LockCommands(this.config)
    return [
      stageOnEach('lock', 'Prepare', this.targets.hosts, () => [exec(makeDirectory('.kamal'))]),
      stageOn('lock', 'Acquire deploy lock', this.targets.primaryHost, [
        { kind: 'lock', command: lock.acquireEncoded(placeholder('lock_details')), status: lock.status(), message, changes: true, note: message },
      ], { announce: 'Acquiring the deploy lock...' }),
    ]
  }

  unlock(): Stage {
    return stageOn('unlock', 'Release deploy lock', this.targets.primaryHost, [exec(new LockCommands(this.config).release(), { label: 'lock release' })], { always: 'lock-held', announce: 'Releasing the deploy lock...' })
  }

  /** Build and push on the runner (unless skipped), then pull on every app host (through the runner's registry when registry-free). */
  deliverImage(): Stage[] {
    const { request } = this
    const stages: Stage[] = []
    if (!request.skipPush) {
      stages.push(...this.hook('pre-build'))
      if (request.build.length > 0) stages.push(this.buildStage())
    }
    stages.push(...this.pullStages())
    return stages
  }

  buildStage(): Stage {
    const { build } = this.request
    const cleanup = build.filter((step) => step.kind === 'remove-directory')
    return { phase: 'build', title: 'Build and push', announce: 'Build and push app image...', lanes: [{ place: RUNNER, units: [{ steps: build, onFailure: cleanup }] }] }
  }

  /** The pull on every app host; `split`: the login and the audit line as a stage of their own, ahead of the pull. */
  pullStages(split = false): Stage[] {
    const { config, targets } = this
    const [remove, pull, checkLabel] = pullCommands(config)
    // The audit line, then the removal of a stale copy of the tag (its failure is fine).
    const audited = together([this.auditor.record(`Pulled image with version ${config.version}`), `${remove} || true`])
    const before = (): Step[] => [...this.loginStep(), exec(audited, { note: 'audit line, then remove a stale copy of the tag (its failure is fine)' })]
    // Split, the login goes with the audit line and the removal: one exec.
    const beforeAsOne = (): Step[] => (this.login ? [exec(together([this.login, audited]), { stdin: { registryPassword: true }, label: 'docker login', note: 'password on stdin; then the audit line and the removal of a stale copy of the tag (its failure is fine)' })] : before())
    const pulling = (): Step[] => [exec(pull, { label: 'docker pull' }), readOnly(checkLabel, { label: 'image label check' })]
    const stages: Stage[] = []
    if (config.localRegistry) stages.push(stageOn('pull', 'Serve the image over SSH', RUNNER, [{ kind: 'ship', hosts: targets.appHosts, changes: false, note: 'an in-process registry on 127.0.0.1, reverse-forwarded to each host while it pulls' }]))
    // Split: the pull and its label check in one exec, right when the image is pushed.
    if (split) stages.push(stageOnEach('pull', 'Registry login', targets.appHosts, beforeAsOne), stageOnEach('pull', 'Pull image', targets.appHosts, () => [exec(together([pull, checkLabel]), { label: 'docker pull', note: 'then the image must carry the service label' })]))
    else stages.push(stageOnEach('pull', 'Pull image', targets.appHosts, () => [...before(), ...pulling()]))
    return stages
  }

  /**
   * `kamal proxy boot` (spec §1.6): the network on every host, kamal-proxy on every proxy host.
   * Where kamal-proxy runs, its container is attached to the network, so a running kamal-proxy
   * (one `docker inspect`) needs no network, login, directory or start.
   */
  proxy(): Stage[] {
    const { config, targets } = this
    const network = (extra: Partial<Extract<Step, { kind: 'exec' }>> = {}) => exec(createNetwork(), { tolerate: 'already exists', note: "'already exists' is fine", ...extra })
    const withoutProxy = targets.hosts.filter((host) => !targets.proxyHosts.includes(host))
    return [
      ...(withoutProxy.length > 0 ? [stageOnEach('proxy', 'Network', withoutProxy, () => [network()], { id: 'network' })] : []),
      stageOnEach('proxy', 'Ensure kamal-proxy', targets.proxyHosts, (host) => [
        { kind: 'proxy-version', command: proxyVersionAndState(), minimum: DEFAULT_PROXY_IMAGE_VERSION, running: 'proxy_running', changes: false, note: `must be ${DEFAULT_PROXY_IMAGE_VERSION} or newer; running already?` },
        network({ unless: 'proxy_running' }),
        ...this.loginStep().map((step) => ({ ...step, unless: 'proxy_running' })),
        exec(together([ensureProxyAppsDirectory(), proxyStartOrRun(config, host)]), { label: 'kamal-proxy start', unless: 'proxy_running' }),
      ], { id: 'proxy', announce: 'Ensure kamal-proxy is running...' }),
    ]
  }

  /**
   * `keepCurrent`: the current running version is kept as old_version for the boot (Before boot does not ask again).
   * `deferStop`: the stale versions are only found here and kept for staleStop(), which stops them once the image is on the host.
   */
  stale(keepCurrent = false, deferStop = false): Stage {
    const note = deferStop ? 'find every running version other than the current one; they stop once the image is pulled' : 'stop every running version other than the current one'
    return {
      phase: 'stale',
      title: 'Stale containers',
      announce: 'Detect stale containers...',
      lanes: this.roleUnits((app, role): Step => ({
        kind: 'stale',
        role,
        survey: app.staleSurvey(),
        serving: app.role.proxy ? { command: app.servingSurvey(), service: app.role.containerPrefix, containerPrefix: app.role.containerPrefix } : undefined,
        currentInto: keepCurrent ? 'old_version' : undefined,
        stop: app.stop(placeholder('stale_version')),
        staleInto: deferStop ? STALE_VERSIONS : undefined,
        changes: !deferStop,
        note: keepCurrent ? `${note}; the current one is the version the boot replaces` : note,
      })),
    }
  }

  /**
   * The stale versions stale(…, true) found, stopped. After the build and the pull, as Kamal stops them:
   * a container that serves although `latest` names an older image (a deploy interrupted after its
   * switch) must keep serving when the build fails.
   */
  staleStop(): Stage {
    return {
      phase: 'stale',
      title: 'Stop stale containers',
      lanes: this.roleUnits((app, role): Step => ({ kind: 'stop-stale', role, versionsFrom: STALE_VERSIONS, stop: app.stop(placeholder('stale_version')), changes: true, note: 'each stale version found under the lock, if any' })),
    }
  }

  /** One lane per app host, one unit per role on it, each with the step `make` gives. */
  private roleUnits(make: (app: AppCommands, role: string) => Step): Stage['lanes'] {
    const { config, targets } = this
    return targets.appHosts.map((host) => ({
      place: host,
      units: targets.roles.filter((role) => role.hosts.includes(host)).map((role) => ({ role: role.name, steps: [make(new AppCommands(config, role, host), role.name)] })),
    }))
  }

  prune(): Stage {
    const prune = new PruneCommands(this.config)
    return stageOnEach('prune', 'Prune', this.targets.hosts, (): Step[] => [
      exec(together([this.auditor.record('Pruned containers'), prune.containers(), this.auditor.record('Pruned images'), prune.danglingImages(), prune.taggedImages()]), { label: 'prune' }),
    ], { announce: 'Prune old containers and images...' })
  }

  accessoryContext(): AccessoryPlanContext {
    return { config: this.config, auditor: this.auditor, login: this.login }
  }

  /** `kamal deploy` / `setup` / `redeploy` / `rollback` (spec §1.1–§1.4), hooks at Kamal's points (§7). */
  deployStages(): Stage[] {
    const { config, targets, request } = this
    const { command } = request
    // setup builds under the lock; rollback neither builds nor pulls, so it locks first.
    const lockFirst = command === 'setup' || command === 'rollback'
    if (request.allOrNothing && bootPlan(bootSettings(config), targets.roles, targets.appHosts).length > 1) {
      throw new InputError('all-or-nothing', 'all-or-nothing needs every host booting at once, and boot.limit splits the boot into groups (a later group could not start while the first waits). Remove boot.limit from config/deploy.yml, or set all-or-nothing: false. Nothing was changed.')
    }
    if (command === 'deploy' || command === 'redeploy') return this.pipelinedDeployStages()
    const stages: Stage[] = [...this.hook('pre-connect'), this.connect()]
    if (lockFirst) stages.push(...this.lock())
    if (command === 'setup') {
      stages.push(stageOnEach('setup', 'Ensure Docker', targets.hosts, () => [{ kind: 'ensure-docker', changes: true }], { announce: 'Ensure Docker is installed...' }))
      stages.push(...this.hook('docker-setup'))
    }
    if (command !== 'rollback') stages.push(...this.deliverImage())
    if (!lockFirst) stages.push(...this.lock())
    if (command === 'rollback') {
      stages.push({
        phase: 'lock',
        title: 'Check rollback version',
        lanes: targets.appHosts.map((host) => ({
          place: host,
          units: targets.roles.filter((role) => role.hosts.includes(host)).map((role) => ({ role: role.name, steps: [{ kind: 'require-version', command: new AppCommands(config, role, host).containerIdForVersion(config.version), changes: false, note: 'the version must exist as a container' } as Step] })),
        })),
      })
    }
    stages.push(...this.hook('pre-deploy'))
    if (command === 'setup') stages.push(...this.proxy())
    if (command === 'setup') stages.push(...accessoryBootStages(this.accessoryContext(), request.accessories))
    if (command !== 'rollback') stages.push(this.stale())
    stages.push(...bootStages({ config, targets, auditor: this.auditor, hooks: request.hooks, errorPages: request.errorPages, allOrNothing: request.allOrNothing }))
    if (command === 'setup') stages.push(this.prune())
    stages.push(this.unlock())
    stages.push(...this.hook('post-deploy', targets.hosts, { onSuccessOnly: true }))
    return stages
  }

  /**
   * `kamal deploy` / `redeploy` as per-host pipelines (issue: half Kamal's time). The SSH
   * connections, the lock and, once it is held, the network, kamal-proxy and the stale
   * containers go on while the runner builds; each host pulls as soon as the image is pushed,
   * boots, tags and prunes on its own. The barriers Kamal's semantics need stay: the lock
   * before any host change, the primary role's first healthy container (inside the boot
   * units), boot groups and every hook (a hook stage waits for everything before it).
   */
  pipelinedDeployStages(): Stage[] {
    const { config, targets, request } = this
    const pipelined = (stage: Stage, extra: Partial<Stage> = {}): Stage => ({ ...stage, sync: 'place', ...extra })
    const [prepare, acquire] = this.lock()
    const context = { config, targets, auditor: this.auditor, hooks: request.hooks, errorPages: request.errorPages, allOrNothing: request.allOrNothing, oldVersionFromStale: true }
    const whole = bootStages(context)
    const onePass = !whole.some((stage) => stage.waitsFor || stage.title.startsWith('Hook') || (stage.phase !== 'boot' && stage.phase !== 'tag') || stage.lanes.some((lane) => lane.place === RUNNER))
    const preDeploy = this.hook('pre-deploy')
    // Under the lock, before the image: independent of each other on a host, so side by side.
    const underLock = (id: string, stage: Stage, after = ['prepare']) => pipelined(stage, { id, needs: ['lock'], placeAfter: preDeploy.length > 0 ? undefined : after })
    const hostWork = [
      ...this.proxy().map((stage) => underLock(stage.id!, stage)),
      underLock('stale', this.stale(true, true)),
      // One boot pass: each host's clash check, old version and env files go ahead of the image too,
      // after the stale check that found the old version.
      ...(onePass ? [underLock('before-boot', beforeBootStage(context), ['prepare', 'stale'])] : []),
    ]
    const delivery: Stage[] = []
    if (!request.skipPush) {
      delivery.push(...this.hook('pre-build').map((stage) => pipelined(stage)))
      if (request.build.length > 0) delivery.push(pipelined(this.buildStage(), { id: 'build' }))
    }
    if (config.localRegistry) {
      // Registry-free: the runner serves the image while the hosts pull, one stage with the other.
      delivery.push(...this.pullStages())
    } else {
      const [login, pull] = this.pullStages(true)
      delivery.push(underLock('registry-login', login), pipelined(pull, { needs: ['build', 'lock'], placeAfter: preDeploy.length > 0 ? undefined : ['registry-login'] }))
    }
    const stages: Stage[] = [...this.hook('pre-connect'), pipelined(this.connect(), { id: 'connect' }), pipelined(prepare, { id: 'prepare' }), pipelined(acquire, { id: 'lock' })]
    if (preDeploy.length > 0) stages.push(...delivery, ...preDeploy, ...hostWork)
    else stages.push(...hostWork, ...delivery)
    // Each host's stale containers stop once its image is pulled (and the build is done), before its boot.
    stages.push(pipelined(this.staleStop(), { id: 'stale-stop', needs: ['build'] }))
    if (onePass) {
      const boot = bootStages({ ...context, prepared: true })
      const tag = boot.pop()!
      // Each host tags while its old container stops (Kamal tags once the new version is serving);
      // it prunes after the stop, as Kamal does (a stopped container counts toward retain_containers).
      stages.push(...boot.map((stage) => pipelined(stage)), pipelined(tag, { besideBackground: true }), pipelined(this.prune()))
    } else stages.push(...whole, pipelined(this.prune()))
    stages.push(this.unlock())
    stages.push(...this.hook('post-deploy', targets.hosts, { onSuccessOnly: true }))
    return stages
  }

  /** `prune`, `lock release|status`, `app maintenance|live`, `accessory boot|reboot|remove`. */
  operationStages(): Stage[] {
    const { config, targets, request } = this
    const stages: Stage[] = [...this.hook('pre-connect'), this.connect()]
    const lock = new LockCommands(config)
    if (request.command === 'lock') {
      const step: Step =
        request.subcommand === 'status'
          ? { kind: 'report', command: lock.status(), otherwise: { stderr: '', message: 'There is no deploy lock' }, changes: false }
          : { kind: 'report', command: lock.release(), success: 'Released the deploy lock', otherwise: { stderr: 'No such file', message: 'There is no deploy lock' }, changes: true }
      stages.push(stageOn('command', `Lock ${request.subcommand}`, targets.primaryHost, [step]))
      return stages
    }
    stages.push(...this.lock())
    if (request.command === 'prune') stages.push(this.prune())
    if (request.command === 'app') {
      const maintenance = request.subcommand === 'maintenance'
      for (const role of targets.roles.filter((item) => item.proxy)) {
        stages.push(
          stageOnEach('command', maintenance ? 'Maintenance mode' : 'Live', role.hosts, () => [
            exec(this.auditor.record(maintenance ? 'Set app to maintenance mode' : 'Set app to live mode', { role: role.name })),
            exec(maintenance ? proxyStop(role, config.drainTimeout) : proxyResume(role), { label: `kamal-proxy ${maintenance ? 'stop' : 'resume'}` }),
          ]),
        )
      }
    }
    if (request.command === 'accessory') {
      const context = this.accessoryContext()
      if (request.subcommand === 'boot') stages.push(...accessoryBootStages(context, request.accessories))
      else if (request.subcommand === 'reboot') stages.push(...accessoryRebootStages(context, request.accessories))
      else stages.push(...accessoryRemoveStages(context, request.accessories))
    }
    stages.push(this.unlock())
    return stages
  }
}
