import * as core from '@actions/core'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { isHash } from '../config/load'
import type { KamalConfig } from '../config/model'
import type { ActionInputs } from '../inputs'
import { KnownHosts } from '../remote/known-hosts'
import type { Secrets } from '../secrets/load'
import type { HostPoolOptions } from './hosts'

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa']

/** SSH settings for the run: Kamal's `ssh:` config plus the action's key and known_hosts inputs. */
export function sshOptionsFor(config: KamalConfig, inputs: ActionInputs, secrets: Secrets, env: NodeJS.ProcessEnv): HostPoolOptions {
  const ssh = isHash(config.raw.ssh) ? config.raw.ssh : {}
  const keys: string[] = []
  if (inputs.sshPrivateKey) keys.push(inputs.sshPrivateKey)
  for (const name of config.ssh.keyData) keys.push(secrets.get(name))
  const keyFiles = Array.isArray(ssh.keys) ? ssh.keys.map(String) : []
  for (const file of keyFiles) keys.push(fs.readFileSync(file.replace(/^~(?=\/)/, os.homedir()), 'utf8'))
  const agentSocket = ssh.keys_only === true ? undefined : env.SSH_AUTH_SOCK
  if (keys.length === 0 && !agentSocket) {
    for (const name of DEFAULT_IDENTITIES) {
      const file = path.join(os.homedir(), '.ssh', name)
      if (fs.existsSync(file)) keys.push(fs.readFileSync(file, 'utf8'))
    }
  }

  const jump = config.ssh.proxy ? parseJump(config.ssh.proxy) : undefined
  const knownHosts = inputs.sshKnownHosts ? new KnownHosts(inputs.sshKnownHosts) : undefined
  const sshkit = isHash(config.raw.sshkit) ? config.raw.sshkit : {}

  return {
    user: config.ssh.user,
    port: config.ssh.port,
    privateKeys: keys,
    agentSocket,
    knownHosts,
    jump,
    maxConcurrentStarts: typeof sshkit.max_concurrent_starts === 'number' ? sshkit.max_concurrent_starts : 30,
    onUnpinnedKey: (host, fingerprint, pinLine) =>
      core.warning(`Host key of ${host} was accepted without pinning (${fingerprint}). Pin it by adding this line to the ssh-known-hosts input:\n${pinLine}`, {
        title: `Unpinned host key: ${host}`,
      }),
  }
}

/** `ssh.proxy`: `[user@]host[:port]`, user defaulting to root as in Kamal. */
function parseJump(proxy: string): { host: string; port: number; user: string } {
  const match = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(proxy)
  return { user: match?.[1] ?? 'root', host: match?.[2] ?? proxy, port: match?.[3] ? Number(match[3]) : 22 }
}
