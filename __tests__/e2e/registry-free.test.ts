import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { errorAnnotations, startAction, type ActionRun } from '../support/run-action'
import { AppProject, appFiles } from './support/app-project'
import { dockerOn, get, harnessDown, harnessUp, onHost, type HarnessState } from './support/harness'

// Registry-free deploys (registry.server: localhost:PORT) to two real hosts: no registry, no
// credentials; the image goes from the runner's Docker to each host through a reverse forward on
// the deploy's own SSH connection, and each host pulls only the layers it lacks.
const HOST_HEADER = 'free.test'
const HOSTS = ['10.213.0.11', '10.213.0.12']
const PORT = 5555
const IMAGE = `localhost:${PORT}/e2e/free`

const CONFIG = `service: free
image: e2e/free
servers:
  web:
    hosts:
      - ${HOSTS[0]}
      - ${HOSTS[1]}
proxy:
  host: ${HOST_HEADER}
  healthcheck:
    path: /up
    interval: 1
    timeout: 2
registry:
  server: localhost:${PORT}
builder:
  arch: amd64
  driver: docker
deploy_timeout: 10
drain_timeout: 2
`

/** A layer of incompressible bytes, so the transfer of v3 takes long enough to cut it. */
const BIG_LAYER_MIB = 300

let harness: HarnessState
let project: AppProject

const hostName = (address: string) => harness.hosts.find((host) => host.address === address)?.name ?? address

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    command: 'deploy',
    'ssh-private-key': fs.readFileSync(harness.privateKey, 'utf8'),
    'ssh-known-hosts': fs.readFileSync(harness.knownHosts, 'utf8'),
    ...extra,
  }
}

function start(extra: Record<string, string>) {
  return startAction(project.dir, inputs(extra), { DOCKER_HOST: harness.runner.dockerHost, DOCKER_BUILDKIT: '0' })
}

async function act(extra: Record<string, string>): Promise<ActionRun> {
  const run = await start(extra).finished
  if (run.status !== 0) process.stdout.write(`action output (exit ${run.status}):\n${run.stdout.slice(-6000)}\n${run.stderr.slice(-2000)}\n`)
  return run
}

async function servedVersion(address: string): Promise<string> {
  const answer = await get(address, HOST_HEADER, '/version')
  return answer.status === 200 ? answer.body.trim() : `HTTP ${answer.status}`
}

/** "  10.213.0.11: 1.23 MiB in 0.8s (…)" lines of the final per-host report, as bytes. */
function bytesSentFromLog(stdout: string): Record<string, number> {
  const block = stdout.slice(stdout.lastIndexOf('Bytes sent to each host:'))
  const sent: Record<string, number> = {}
  for (const match of block.matchAll(/^ {2}([\d.]+): [^(\n]+\((\d+) bytes\) in /gm)) sent[match[1]] = Number(match[2])
  return sent
}

beforeAll(() => {
  harness = harnessUp(2)
  project = new AppProject({ 'config/deploy.yml': CONFIG, ...appFiles('v1') })
}, 180_000)

afterAll(() => {
  if (!process.env.KEEP_HARNESS) harnessDown()
}, 60_000)

describe('registry-free deploys', () => {
  test('v1 then v2 to two hosts with no registry and no credentials; v2 sends only the changed layer', async () => {
    const v1 = await act({ version: 'v1' })
    expect(v1.status).toBe(0)
    for (const address of HOSTS) expect(await servedVersion(address)).toBe('v1')
    expect(v1.stdout).toContain(`Setting up local registry port forwarding to ${HOSTS.join(', ')}...`)
    expect(v1.stdout).not.toContain('docker login')

    project.write(appFiles('v2'))
    project.commit('v2')
    const v2 = await act({ version: 'v2' })
    expect(v2.status).toBe(0)
    for (const address of HOSTS) {
      expect(await servedVersion(address)).toBe('v2')
      const name = hostName(address)
      expect(dockerOn(harness, name, ['inspect', '--format', '{{.State.Status}}', 'free-web-v2'])).toBe('running')
      expect(dockerOn(harness, name, ['image', 'inspect', '--format', '{{index .Config.Labels "service"}}', `${IMAGE}:v2`])).toBe('free')
      // nothing of ours listens on the host once the deploy is over
      expect(onHost(name, `ss -Hltn 'sport = :${PORT}'`)).toBe('')
    }
    // the runner and the hosts hold the very same image (config digest = image ID)
    const runnerId = execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', `${IMAGE}:v2`], { env: { ...process.env, DOCKER_HOST: harness.runner.dockerHost }, encoding: 'utf8' }).trim()
    for (const address of HOSTS) expect(dockerOn(harness, hostName(address), ['image', 'inspect', '--format', '{{.Id}}', `${IMAGE}:v2`])).toBe(runnerId)

    // v1 sent the busybox base layer too; v2 only the small changed app layers
    const first = bytesSentFromLog(v1.stdout)
    const second = bytesSentFromLog(v2.stdout)
    process.stdout.write(`bytes sent: v1 ${JSON.stringify(first)}, v2 ${JSON.stringify(second)}\n`)
    expect(JSON.parse(v2.outputs['bytes-sent'])).toEqual(second)
    expect(v2.summary).toContain('**Image transfer (registry-free, over SSH):** ')
    for (const address of HOSTS) {
      expect(first[address]).toBeGreaterThan(500_000)
      expect(second[address]).toBeGreaterThan(0)
      expect(second[address]).toBeLessThan(first[address] / 10)
    }
    expect(onHost(hostName(HOSTS[0]), 'test -e .kamal/lock-free && echo held || echo free')).toBe('free')
  }, 240_000)

  test('the SSH connection to a host cut mid-transfer: a clear error naming it, v2 keeps serving, nothing tagged, lock released', async () => {
    const victim = HOSTS[1]
    const files = appFiles('v3')
    files.Dockerfile = files.Dockerfile.replace('COPY www /www', `COPY www /www\nCOPY big.bin /big.bin`)
    project.write(files)
    fs.writeFileSync(path.join(project.dir, 'big.bin'), Buffer.alloc(0))
    execFileSync('sh', ['-c', `head -c ${BIG_LAYER_MIB}M /dev/urandom > big.bin`], { cwd: project.dir })
    project.commit('v3 with a big layer')

    const running = start({ version: 'v3' })
    await running.waitFor(new RegExp(`^ {2}${victim.replace(/\./g, '\\.')}: [\\d.]+ MiB sent`, 'm'))
    // Kill the host's sshd session process(es) serving our connection: the connection, its
    // tunnel and the remote `docker pull` all die at once.
    const sessions = execFileSync('sh', ['-c', `ps -eo pid=,args= | awk '/sshd: root@notty/ && !/awk/ {print $1}'`], { encoding: 'utf8' }).trim()
    const victimSessions = sessions
      .split('\n')
      .filter(Boolean)
      .filter((pid) => fs.readlinkSync(`/proc/${pid}/ns/net`) === fs.readlinkSync(`/proc/${onHostPid(hostName(victim))}/ns/net`))
    expect(victimSessions.length).toBeGreaterThan(0)
    for (const pid of victimSessions) process.kill(Number(pid), 'SIGKILL')
    const run = await running.finished
    process.stdout.write(`cut transfer run (exit ${run.status}):\n${run.stdout.split('\n').filter((line) => /sent|cut|Image transfer|Bytes/.test(line)).join('\n')}\n`)

    expect(run.status).toBe(1)
    expect(run.outputs.result).toBe('failed')
    const messages = errorAnnotations(run.stdout).map((annotation) => annotation.message)
    expect(messages.some((message) => message.includes(`Image transfer to ${victim} was cut after`) && message.includes(`the SSH connection to ${victim}`))).toBe(true)
    for (const address of HOSTS) expect(await servedVersion(address)).toBe('v2')
    expect(() => dockerOn(harness, hostName(victim), ['image', 'inspect', `${IMAGE}:v3`])).toThrow()
    expect(dockerOn(harness, hostName(victim), ['ps', '-a', '--filter', 'name=free-web-v3', '--format', '{{.Names}}'])).toBe('')
    expect(onHost(hostName(HOSTS[0]), 'test -e .kamal/lock-free && echo held || echo free')).toBe('free')
    // The lock is taken while the image is built (per-host pipelines), so the failure releases it.
    expect(run.stdout).toContain('Releasing the deploy lock')
    expect(run.stdout).not.toContain('Booting v3')
  }, 240_000)
})

/** The pid that holds a harness host's namespaces. */
function onHostPid(name: string): string {
  return fs.readFileSync(`/var/lib/kdh-harness/${name}/init.pid`, 'utf8').trim()
}
