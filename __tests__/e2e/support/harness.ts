import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as path from 'node:path'

export const HARNESS = path.resolve(__dirname, '../../../harness')

/** deploy.yml lines for the harness: its registry (the password from the KAMAL_REGISTRY_PASSWORD secret) and the runner's docker builder. */
export const HARNESS_REGISTRY_AND_BUILDER = `registry:
  server: 10.213.0.1:5000
  username: deployer
  password: [KAMAL_REGISTRY_PASSWORD]
builder:
  arch: amd64
  driver: docker
`

export interface HarnessHost {
  name: string
  address: string
  dockerHost: string
  homeOnDisk: string
}

export interface HarnessState {
  registry: string
  privateKey: string
  knownHosts: string
  hosts: HarnessHost[]
  runner: { dockerHost: string }
}

/** Installs what the harness needs (apt), then starts `count` hosts, the registry and the runner engine. */
export function harnessUp(count: number): HarnessState {
  if (process.getuid?.() !== 0) throw new Error('The e2e tests build real hosts (network namespaces, dockerd, sshd) and must run as root.')
  execFileSync(path.join(HARNESS, 'install-deps.sh'), { stdio: 'inherit' })
  execFileSync(path.join(HARNESS, 'hosts.sh'), ['up', String(count)], { stdio: 'inherit' })
  return readState()
}

export function harnessDown(): void {
  execFileSync(path.join(HARNESS, 'hosts.sh'), ['down'], { stdio: 'inherit' })
}

export function readState(): HarnessState {
  return JSON.parse(fs.readFileSync(path.join(HARNESS, '.state/hosts.json'), 'utf8'))
}

/** The inputs that let the action into the harness hosts (the deploy key, their pinned host keys), and the runner's docker. */
export function harnessAccess(state: HarnessState): { inputs: Record<string, string>; env: Record<string, string> } {
  return {
    inputs: { 'ssh-private-key': fs.readFileSync(state.privateKey, 'utf8'), 'ssh-known-hosts': fs.readFileSync(state.knownHosts, 'utf8') },
    env: { DOCKER_HOST: state.runner.dockerHost },
  }
}

/** The file each host's sshd logs every command it is asked to run into (the harness's ForceCommand). */
export function commandsLogOf(address: string): string {
  return (readState() as unknown as { hosts: Array<{ address: string; commandsLog: string }> }).hosts.find((item) => item.address === address)?.commandsLog ?? ''
}

/** Every command the host's sshd was asked to run, with the time it started. */
export function loggedCommands(address: string): Array<{ at: number; command: string }> {
  return fs
    .readFileSync(commandsLogOf(address), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [at, ...rest] = line.split('\t')
      return { at: Date.parse(at), command: rest.join('\t').replace(/\\(\\|n)/g, (_, escaped: string) => (escaped === 'n' ? '\n' : '\\')) }
    })
}

/** Runs a shell command inside a host's namespaces (its own docker, its own /root). */
export function onHost(host: string, command: string): string {
  return execFileSync(path.join(HARNESS, 'host-exec.sh'), [host, 'sh', '-c', command], { encoding: 'utf8' }).trim()
}

export function dockerOn(state: HarnessState, hostName: string, args: string[]): string {
  const host = state.hosts.find((item) => item.name === hostName)
  if (!host) throw new Error(`no harness host ${hostName}`)
  return execFileSync('docker', args, { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: host.dockerHost } }).trim()
}

export interface HttpAnswer {
  status: number
  body: string
}

export function get(address: string, hostHeader: string, urlPath = '/', timeoutMs = 3000): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    const request = http.get({ host: address, port: 80, path: urlPath, headers: { Host: hostHeader }, agent: false, timeout: timeoutMs }, (response) => {
      let body = ''
      response.on('data', (chunk) => (body += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
    })
    request.on('timeout', () => request.destroy(new Error('timeout')))
    request.on('error', (error) => resolve({ status: 0, body: error.message }))
  })
}

export interface LoadReport {
  requests: number
  failures: number
  statuses: Record<string, number>
  /** per address, the versions served in the order they were first seen */
  versions: Record<string, string[]>
  perSecond: number
}

/**
 * Steady traffic to each address (`rate` requests per second per address) until
 * stopped; records every status and the sequence of versions served.
 */
export function startLoad(addresses: string[], hostHeader: string, rate: number, urlPath = '/version'): { stop: () => Promise<LoadReport> } {
  const answers: Array<{ address: string; answer: Promise<HttpAnswer> }> = []
  const started = Date.now()
  const timer = setInterval(() => {
    for (const address of addresses) answers.push({ address, answer: get(address, hostHeader, urlPath) })
  }, 1000 / rate)
  return {
    stop: async () => {
      clearInterval(timer)
      const results = await Promise.all(answers.map((sent) => sent.answer))
      // In the order the requests were sent: a slow answer from the old version, drained after
      // the switch, must not read as a flip back.
      const versions: Record<string, string[]> = Object.fromEntries(addresses.map((address) => [address, []]))
      results.forEach((result, index) => {
        const seen = versions[answers[index].address]
        const version = result.body.trim()
        if (result.status === 200 && seen[seen.length - 1] !== version) seen.push(version)
      })
      const statuses: Record<string, number> = {}
      for (const result of results) statuses[result.status] = (statuses[result.status] ?? 0) + 1
      const seconds = (Date.now() - started) / 1000
      return { requests: results.length, failures: results.filter((result) => result.status !== 200).length, statuses, versions, perSecond: results.length / seconds }
    },
  }
}
