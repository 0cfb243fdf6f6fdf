import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as os from 'node:os'
import { ConfigError } from '../errors'
import type { KamalConfig } from '../config/model'
import { parseJumpChain, proxyCommandProblem, type JumpHop, type SshConfig } from '../config/ssh'
import type { ActionInputs } from '../inputs'
import { KnownHosts } from '../remote/known-hosts'
import { DEFAULT_SSH_CONFIG_FILES, expandHome, openSshSettingsFor, sshConfigFiles, variablesToSend, type OpenSshHostSettings } from '../remote/openssh-config'
import { substituteProxyCommand } from '../remote/proxy-command'
import type { SshEndpoint, SshPlan, SshRoute, SshTarget } from '../remote/ssh-connection'
import type { Secrets } from '../secrets/load'
import type { HostPoolOptions } from './hosts'

/** Net::SSH's default identities, used when neither `keys` (nor ssh config IdentityFile) nor `key_data` is given. */
const DEFAULT_IDENTITIES = ['~/.ssh/id_ed25519', '~/.ssh/id_rsa', '~/.ssh/id_dsa', '~/.ssh/id_ecdsa', '~/.ssh2/id_ed25519', '~/.ssh2/id_rsa', '~/.ssh2/id_dsa', '~/.ssh2/id_ecdsa']

/**
 * SSH settings for the run: Kamal's typed `ssh:`/`sshkit:` config, the OpenSSH config files it
 * names, and the action's key and known_hosts inputs. Everything that cannot be honoured is
 * refused here (ConfigError at its file:line), before any connection.
 */
export function sshOptionsFor(config: KamalConfig, inputs: ActionInputs, secrets: Secrets, env: NodeJS.ProcessEnv): HostPoolOptions {
  const ssh = config.ssh
  for (const warning of new Set(ssh.warnings)) core.warning(warning, { title: 'ssh/key_data' })

  const actionKeys = inputs.sshPrivateKey ? [inputs.sshPrivateKey] : []
  const keyData = ssh.keyData.map((entry) => ('secret' in entry ? secrets.get(entry.secret, config.locate(entry.at)) : entry.inline))
  const kamalKeyFiles = ssh.keys?.map((file, index) => {
    const full = expandHome(file)
    if (!fs.existsSync(full)) {
      throw new ConfigError(`ssh/keys: ${file} does not exist on the runner. Write the key there in an earlier step, or give it as a secret in ssh/key_data.`, config.locate(['ssh', 'keys', index]))
    }
    return fs.readFileSync(full, 'utf8')
  })
  const files = sshConfigFiles(ssh.config)
  // Jump hops are reached by OpenSSH in Kamal (`ssh -J … -F <config>`): it reads the default files unless one path is given.
  const hopFiles = typeof ssh.config === 'string' ? [ssh.config] : DEFAULT_SSH_CONFIG_FILES
  const agent = env.SSH_AUTH_SOCK || undefined
  const localUser = os.userInfo().username
  const verbose = ssh.logLevel === 'debug' || ssh.logLevel === 'info'

  const plans = new Map<string, SshPlan>()
  const planFor = (endpoint: SshEndpoint): SshPlan => {
    const known = plans.get(endpoint.host)
    if (known) return known
    const fromFile = openSshSettingsFor(endpoint.host, files)
    // Net::SSH merges Kamal's explicit options over the config file's: user and port always come from Kamal.
    const identityFiles = readableIdentities(fromFile)
    const fileKeys = kamalKeyFiles ?? (identityFiles.length > 0 ? identityFiles : keyData.length > 0 ? [] : readableFiles(DEFAULT_IDENTITIES))
    const target: SshTarget = {
      host: fromFile.hostName?.value ?? endpoint.host,
      port: endpoint.port,
      user: endpoint.user,
      privateKeys: [...actionKeys, ...fileKeys, ...keyData],
      connectTimeoutMs: fromFile.connectTimeout ? fromFile.connectTimeout.value * 1000 : undefined,
      keepaliveCountMax: fromFile.serverAliveCountMax?.value,
      env: { ...variablesToSend(fromFile.sendEnv?.value ?? [], env), ...fromFile.setEnv?.value },
    }
    const route = routeFor(ssh, fromFile, target, (hop) => hopTarget(hop, hopFiles, localUser, [...actionKeys, ...(kamalKeyFiles ?? []), ...keyData]))
    const plan = { target, route }
    if (verbose) core.info(`SSH ${endpoint.host}: ${describePlan(plan)}`)
    plans.set(endpoint.host, plan)
    return plan
  }
  // Resolve every host now so that a refusal comes before the first connection.
  for (const host of config.allHosts) planFor({ host, port: ssh.port, user: ssh.user })

  return {
    user: ssh.user,
    port: ssh.port,
    privateKeys: [...actionKeys, ...(kamalKeyFiles ?? []), ...keyData],
    agentSocket: ssh.keysOnly === true ? undefined : agent,
    forwardAgentSocket: ssh.forwardAgent ? agent : undefined,
    knownHosts: inputs.sshKnownHosts ? new KnownHosts(inputs.sshKnownHosts) : undefined,
    plan: planFor,
    maxConcurrentStarts: ssh.sshkit.maxConcurrentStarts,
    poolIdleTimeoutSeconds: ssh.sshkit.poolIdleTimeout,
    dnsRetries: ssh.sshkit.dnsRetries,
    keepaliveIntervalMs: 30_000,
    onWarning: (message) => core.warning(message),
    debug: ssh.logLevel === 'debug' ? (message) => core.info(`[ssh] ${message}`) : undefined,
    onUnpinnedKey: (host, fingerprint, pinLine) =>
      core.warning(`Host key of ${host} was accepted without pinning (${fingerprint}). Pin it by adding this line to the ssh-known-hosts input:\n${pinLine}`, {
        title: `Unpinned host key: ${host}`,
      }),
  }
}

/** Kamal's ssh.proxy / proxy_command win over the config file's ProxyJump / ProxyCommand (Net::SSH option merge). */
function routeFor(ssh: SshConfig, fromFile: OpenSshHostSettings, target: SshTarget, hop: (written: JumpHop) => SshTarget): SshRoute {
  if (ssh.proxy?.kind === 'jump') return { kind: 'jump', hops: visitingOrder(ssh.proxy.hops).map(hop) }
  if (ssh.proxy?.kind === 'command') return { kind: 'command', command: substituteProxyCommand(ssh.proxy.template, target) }
  const fileProxy = fromFile.proxy
  if (!fileProxy) return { kind: 'direct' }
  const at = fileProxy.location
  if (fileProxy.value.kind === 'command') {
    const problem = proxyCommandProblem(fileProxy.value.template)
    if (problem) throw new ConfigError(`${at.file}:${at.line}: ProxyCommand: ${problem}`, at)
    return { kind: 'command', command: substituteProxyCommand(fileProxy.value.template, target) }
  }
  const hops = parseJumpChain(fileProxy.value.spec)
  if (!hops) throw new ConfigError(`${at.file}:${at.line}: ProxyJump ${fileProxy.value.spec} is not a jump chain ([user@]host[:port],…). Fix the line or set ssh/config: false.`, at)
  return { kind: 'jump', hops: visitingOrder(hops).map(hop) }
}

/**
 * Net::SSH::Proxy::Jump runs `ssh -l u1 -p p1 -J <hop2,…,hopN> -W %h:%p hop1`: OpenSSH visits
 * hop2…hopN in order, then hop1, then the target. We visit them in that same order.
 */
export function visitingOrder<T>(hops: T[]): T[] {
  return hops.length > 1 ? [...hops.slice(1), hops[0]] : hops
}

/** A hop as OpenSSH resolves it: what is written, else its Host block, else the local user and port 22. */
function hopTarget(hop: JumpHop, files: string[], localUser: string, keys: string[]): SshTarget {
  const fromFile = openSshSettingsFor(hop.host, files)
  if (fromFile.proxy) {
    const at = fromFile.proxy.location
    throw new ConfigError(`${at.file}:${at.line}: the jump host ${hop.host} has its own ProxyJump/ProxyCommand, which is not supported here. Put the whole chain in ssh/proxy instead.`, at)
  }
  return {
    host: fromFile.hostName?.value ?? hop.host,
    port: hop.port ?? fromFile.port?.value ?? 22,
    user: hop.user ?? fromFile.user?.value ?? localUser,
    privateKeys: [...keys, ...readableIdentities(fromFile)],
    connectTimeoutMs: fromFile.connectTimeout ? fromFile.connectTimeout.value * 1000 : undefined,
  }
}

function readableIdentities(settings: OpenSshHostSettings): string[] {
  return readableFiles(settings.identityFiles.map((file) => file.value))
}

/** Key files that exist; like Net::SSH (and OpenSSH), a missing identity file is skipped. */
function readableFiles(files: string[]): string[] {
  return files.flatMap((file) => {
    try {
      return [fs.readFileSync(expandHome(file), 'utf8')]
    } catch {
      return []
    }
  })
}

function describePlan(plan: SshPlan): string {
  const target = `${plan.target.user}@${plan.target.host}:${plan.target.port}`
  if (plan.route.kind === 'jump') return `${plan.route.hops.map((hop) => `${hop.user}@${hop.host}:${hop.port}`).join(' → ')} → ${target}`
  if (plan.route.kind === 'command') return `${target} over the proxy command ${plan.route.command}`
  return target
}
