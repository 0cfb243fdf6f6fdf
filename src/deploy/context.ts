import { Auditor } from '../commands/auditor'
import { registryLogin } from '../commands/registry'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { hookEnvironment, hookFile, hookOutputLevel, hookReceivesSecrets, runHookLogged, type HookName } from '../hooks'
import { forEachLimited } from './hosts'
import { RemoteShell } from './remote'
import { CancelledError, type DeployRequest } from './request'

/** The helpers every step of a run uses, bound to one request. */
export class RunContext {
  readonly auditor: Auditor
  readonly login: string | undefined
  /** whether this run holds the deploy lock now (KAMAL_LOCK for hooks) */
  lockHeld = false

  constructor(readonly request: DeployRequest) {
    this.auditor = new Auditor(request.config, request.performer)
    this.login = registryLogin(request.config, request.registryUser)
  }

  get config() {
    return this.request.config
  }

  get targets() {
    return this.request.targets
  }

  say(line: string): void {
    this.request.progress.say(line)
  }

  checkCancelled(): void {
    if (this.request.cancelled?.()) throw new CancelledError()
  }

  /** The same work on each host, in parallel (bounded), one log group per host for the phase; failures combined. */
  onHosts(hosts: string[], phase: string, work: (shell: RemoteShell, host: string) => Promise<void>): Promise<void> {
    const { pool, progress } = this.request
    return forEachLimited(hosts, this.request.parallelism ?? 30, (host) => host, (host) => progress.phase(host, phase, (log) => work(new RemoteShell(pool.get(host), log), host)))
  }

  shell(host: string, log: (line: string) => void): RemoteShell {
    return new RemoteShell(this.request.pool.get(host), log)
  }

  /** `docker login` on a host, password on stdin (nothing for a local registry). */
  async loginOn(shell: RemoteShell): Promise<void> {
    if (this.login) await shell.run(this.login, { stdin: this.request.registryPassword ?? '', step: 'docker login' })
  }

  /** Runs `.kamal/hooks/<hook>` locally if it exists, with Kamal's KAMAL_* variables (spec §7). */
  async hook(hook: HookName, { hosts, runtimeSeconds, subcommand }: { hosts?: string[]; runtimeSeconds?: number; subcommand?: string } = {}): Promise<void> {
    const { request } = this
    const secrets = hookReceivesSecrets(hook) ? Object.fromEntries(request.secrets.keys().map((key) => [key, request.secrets.get(key)])) : undefined
    const hookEnv = hookEnvironment(hook, {
      config: request.config,
      performer: request.performer,
      recordedAt: new Date(),
      hosts: hosts ?? request.targets.hosts,
      roles: request.rolesFilter,
      lock: this.lockHeld,
      command: request.command,
      subcommand,
      runtimeSeconds,
      secrets,
    })
    if (!fs.existsSync(path.resolve(request.projectDir, hookFile(request.config.hooksPath, hook)))) return
    const options = { projectDir: request.projectDir, hooksPath: request.config.hooksPath, baseEnv: request.env, hookEnv }
    await runHookLogged(hook, options, hookOutputLevel(request.config, hook), (title, work) => request.progress.phase('local', title, work))
  }
}
