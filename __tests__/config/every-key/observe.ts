/**
 * What a config makes the action do, as one comparable text: the plans of
 * every command (every command string, upload and decision), the runner's
 * build steps, the SSH settings, hook output levels, aliases and output
 * settings — or the located error that refuses it. Two configs that observe
 * the same make the action do the same.
 */
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { utils } from 'ssh2'
import { runnerSteps } from '../../../src/make-plan'
import { configAliases } from '../../../src/config/aliases'
import { hooksOutputFor } from '../../../src/config/hooks-output'
import { outputSettings } from '../../../src/config/output'
import { sshOptionsFor } from '../../../src/deploy/ssh-options'
import { HOOK_NAMES } from '../../../src/hooks'
import { readInputs } from '../../../src/inputs'
import { buildPlan, type PlanRequest } from '../../../src/plan/deploy-plan'
import { errorPagesUpload } from '../../../src/commands/error-pages'
import { accessorySettings } from '../../../src/config/accessory'
import { prepareRun } from '../../../src/prepare'
import { ConfigError } from '../../../src/errors'
import { buildFacts } from './facts'

export const SECRET_NAMES = ['KAMAL_REGISTRY_PASSWORD', 'OTHER_PASSWORD', 'OTHER_CERTIFICATE_PEM', 'DATABASE_URL', 'WORKER_TOKEN', 'SSH_PRIVATE_KEY', 'BUILD_SECRET', 'DB_REGISTRY_PASSWORD', 'MYSQL_ROOT_PASSWORD', 'CERTIFICATE_PEM', 'PRIVATE_KEY_PEM']

/** A project directory holding the config and every file it names. */
export function projectWith(yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'every-key-'))
  const files: Record<string, string> = {
    'config/deploy.yml': yaml,
    '.kamal/secrets': SECRET_NAMES.map((name) => `${name}=value-of-${name.toLowerCase()}`).join('\n') + '\n',
    '.kamal/other-secrets': SECRET_NAMES.map((name) => `${name}=other-value-of-${name.toLowerCase()}`).join('\n') + '\n',
    'config/my.cnf': '[mysqld]\n',
    'Dockerfile.production': 'FROM scratch\n',
    Dockerfile: 'FROM scratch\n',
    'public/404.html': 'not found\n',
    'errors/500.html': 'oops\n',
    'config/ssh_config': 'Host 10.0.0.1\n  HostName 10.9.9.1\n  ConnectTimeout 7\n',
  }
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    fs.writeFileSync(path.join(dir, file), content)
  }
  for (const hook of ['pre-deploy', 'post-deploy']) {
    for (const hooks of ['.kamal/hooks', '.kamal/other-hooks']) {
      fs.mkdirSync(path.join(dir, hooks), { recursive: true })
      fs.writeFileSync(path.join(dir, hooks, hook), '#!/bin/sh\n', { mode: 0o755 })
    }
  }
  return dir
}

const COMMANDS: Array<Pick<PlanRequest, 'command' | 'subcommand' | 'argument'>> = [
  { command: 'deploy' },
  { command: 'setup' },
  { command: 'rollback' },
  { command: 'prune' },
  { command: 'app', subcommand: 'maintenance' },
  { command: 'accessory', subcommand: 'reboot', argument: 'all' },
]

/** The key file the sink names (ssh.keys: ~/.ssh/id_sink), made in a folder of the test's own. */
const KEY_FILE = (() => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'every-key-home-'))
  const file = path.join(home, 'id_sink')
  fs.writeFileSync(file, utils.generateKeyPairSync('ed25519').private, { mode: 0o600 })
  return file
})()

export function observe(template: string, destination?: string): string {
  const dir = projectWith('')
  const yaml = template.replace('~/.ssh/id_sink', KEY_FILE).replaceAll('@PROJECT@', dir)
  fs.writeFileSync(path.join(dir, 'config/deploy.yml'), yaml)
  try {
    const inputs = readInputs((name) => ({ command: 'deploy', version: 'v1', destination: destination ?? '' })[name] ?? '')
    const env = { PATH: process.env.PATH, HOME: os.homedir(), SSH_AUTH_SOCK: '/tmp/every-key-agent.sock' }
    const prepared = prepareRun(inputs, { projectDir: dir, env })
    const { config, targets } = prepared
    const build = runnerSteps(config, buildFacts(dir), { username: 'deployer', shown: 'deployer' })
    const plans = COMMANDS.map((command) =>
      buildPlan(config, targets, {
        ...command,
        skipPush: false,
        performer: 'every-key@example.com',
        registryUser: prepared.registryUserInCommand,
        hooks: new Set(HOOK_NAMES.filter((hook) => fs.existsSync(path.join(dir, config.hooksPath, hook)))),
        build,
        errorPages: errorPagesUpload(config, dir),
        accessories: config.accessories.map((accessory) => accessorySettings(config, accessory.name, dir)),
        now: () => new Date('2026-01-01T00:00:00Z'),
      }),
    )
    const ssh = sshOptionsFor(config, inputs, prepared.secrets, env)
    const routes = targets.hosts.map((host) => ssh.plan?.({ host, port: ssh.port, user: ssh.user }))
    return JSON.stringify(
      {
        plans,
        ssh,
        routes,
        sshDebug: Boolean(ssh.debug),
        // credentials go on stdin, never into a plan: compare their values by hash
        credentials: createHash('sha256').update(JSON.stringify([prepared.registryUser, prepared.registryPassword, prepared.secrets.keys().map((key) => prepared.secrets.get(key))])).digest('hex'),
        hooks: HOOK_NAMES.map((hook) => hooksOutputFor(config, hook)),
        aliases: configAliases(config),
        output: outputSettings(config),
        secretsPath: config.secretsPath,
      },
      (_key, value) => (typeof value === 'function' ? undefined : value instanceof Set || value instanceof Map ? [...value] : value),
    ).replaceAll(dir, '<project>')
  } catch (error) {
    if (error instanceof ConfigError) return `ERROR ${error.message} @${error.location?.line ?? '?'}`
    return `ERROR ${error instanceof Error ? error.message : String(error)}`
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
