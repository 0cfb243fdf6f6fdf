import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { errorAnnotations, startAction, type ActionRun } from '../support/run-action'
import { AppProject, appFiles } from './support/app-project'
import { dockerOn, get, harnessDown, harnessUp, onHost, startLoad, type HarnessState } from './support/harness'
import { watchHostArgv, type ArgvWatch } from './support/argv-watch'
import { startFakeGitHub } from '../support/fake-github'

// Real deploys of a two-role app to three real hosts (sshd + dockerd each), through
// the kamal-proxy stand-in, with traffic flowing while versions change.
const HOST_HEADER = 'shop.test'
const WEB = ['10.213.0.11', '10.213.0.12']
const WORKER = '10.213.0.13'
const REGISTRY_PASSWORD = 'e2e-registry-secret-5d2c'
const DATABASE_URL = 'postgres://shop:e2e-db-secret-93b1@db/shop'
const SECRET_VALUES = [REGISTRY_PASSWORD, 'e2e-db-secret-93b1']
const RATE_PER_HOST = 60

const CONFIG = `service: shop
image: e2e/shop
servers:
  web:
    hosts:
      - ${WEB[0]}
      - ${WEB[1]}
  workers:
    hosts:
      - ${WORKER}
    cmd: sh -c 'echo worker up; while true; do sleep 1; done'
proxy:
  host: ${HOST_HEADER}
  healthcheck:
    path: /up
    interval: 1
    timeout: 2
registry:
  server: 10.213.0.1:5000
  username: deployer
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  arch: amd64
  driver: docker
env:
  clear:
    SHOP_MODE: e2e
  secret:
    - DATABASE_URL
deploy_timeout: 10
drain_timeout: 3
readiness_delay: 1
`

let harness: HarnessState
let project: AppProject
const runs: ActionRun[] = []
let argv: ArgvWatch
let github: Awaited<ReturnType<typeof startFakeGitHub>>

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    command: 'deploy',
    'ssh-private-key': fs.readFileSync(harness.privateKey, 'utf8'),
    'ssh-known-hosts': fs.readFileSync(harness.knownHosts, 'utf8'),
    secrets: `KAMAL_REGISTRY_PASSWORD=${REGISTRY_PASSWORD}`,
    ...extra,
  }
}

// The GitHub API stand-in: every run creates a deployment there (the real API is not reachable).
const githubEnv = () => ({ GITHUB_API_URL: github.url, GITHUB_REPOSITORY: 'acme/shop', GITHUB_SHA: 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed', GITHUB_SERVER_URL: 'https://github.example', GITHUB_RUN_ID: '99' })

async function act(extra: Record<string, string>): Promise<ActionRun> {
  const run = await startAction(project.dir, inputs({ 'github-token': 'ghs_e2e', ...extra }), { DOCKER_HOST: harness.runner.dockerHost, ...githubEnv() }).finished
  runs.push(run)
  if (run.status !== 0) process.stdout.write(`action output (exit ${run.status}):\n${run.stdout.slice(-6000)}\n${run.stderr.slice(-2000)}\n`)
  return run
}

async function servedVersion(address: string): Promise<string> {
  const answer = await get(address, HOST_HEADER, '/version')
  return answer.status === 200 ? answer.body.trim() : `HTTP ${answer.status}`
}

const hostName = (address: string) => harness.hosts.find((host) => host.address === address)?.name ?? address

beforeAll(async () => {
  github = await startFakeGitHub(7)
  harness = harnessUp(3)
  project = new AppProject({ 'config/deploy.yml': CONFIG, '.kamal/secrets': `KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD\nDATABASE_URL=${DATABASE_URL}\n`, ...appFiles('v1') })
  argv = watchHostArgv(SECRET_VALUES)
}, 180_000)

afterAll(async () => {
  await github?.close()
  argv?.stop()
  if (!process.env.KEEP_HARNESS) harnessDown()
}, 60_000)

describe('deploys to real hosts', () => {
  test('v1 to two web hosts and a worker host, with Kamal names, labels, files and lock', async () => {
    const callsBefore = github.calls.length
    const run = await act({ version: 'v1' })
    expect(run.status).toBe(0)
    expect(run.outputs).toEqual({
      version: 'v1',
      image: '10.213.0.1:5000/e2e/shop:v1',
      url: 'http://shop.test',
      hosts: '10.213.0.11,10.213.0.12,10.213.0.13',
      roles: 'web,workers',
      result: 'success',
      duration: expect.stringMatching(/^\d+\.\d$/),
      'deployment-id': '7',
      commit: 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed',
      'previous-version': '',
      'failed-hosts': '',
      plan: expect.stringMatching(/plan\.json$/),
      record: expect.stringMatching(/record\.json$/),
    })
    const calls = github.calls.slice(callsBefore)
    expect(calls.map((call) => `${call.method} ${call.path} ${call.body.state ?? call.body.environment}`)).toEqual([
      'POST /repos/acme/shop/deployments production',
      'POST /repos/acme/shop/deployments/7/statuses in_progress',
      'POST /repos/acme/shop/deployments/7/statuses success',
    ])
    expect(calls[2].body).toMatchObject({ environment_url: 'http://shop.test', log_url: 'https://github.example/acme/shop/actions/runs/99', auto_inactive: true })
    expect(run.summary).toContain('### Time per host')
    expect(run.summary).toContain('[`f00dfee`](https://github.example/acme/shop/commit/f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed)')
    expect(run.summary).toContain('section 10.213.0.13')
    for (const address of WEB) expect(await servedVersion(address)).toBe('v1')

    for (const address of WEB) {
      const name = hostName(address)
      const labels = JSON.parse(dockerOn(harness, name, ['inspect', '--format', '{{json .Config.Labels}}', 'shop-web-v1']))
      expect(labels).toMatchObject({ service: 'shop', role: 'web', destination: '' })
      expect(dockerOn(harness, name, ['inspect', '--format', '{{.State.Status}} {{.HostConfig.NetworkMode}}', 'shop-web-v1'])).toBe('running kamal')
      expect(onHost(name, 'stat -c "%a %n" .kamal/apps/shop/env/roles/web.env')).toBe('600 .kamal/apps/shop/env/roles/web.env')
      expect(onHost(name, 'cat .kamal/apps/shop/env/roles/web.env')).toBe(`DATABASE_URL=${DATABASE_URL}`)
      expect(onHost(name, 'cat .kamal/shop-audit.log')).toMatch(/\] \[deployer@example\.com\] \[web\] Booted app version v1$/m)
      expect(onHost(name, 'test -e .kamal/lock-shop && echo held || echo free')).toBe('free')
      expect(dockerOn(harness, name, ['inspect', '--format', '{{.State.Status}}', 'kamal-proxy'])).toBe('running')
    }
    const worker = hostName(WORKER)
    expect(dockerOn(harness, worker, ['inspect', '--format', '{{.State.Status}} {{index .Config.Labels "role"}}', 'shop-workers-v1'])).toBe('running workers')
    expect(dockerOn(harness, worker, ['logs', 'shop-workers-v1'])).toContain('worker up')
    expect(onHost(worker, 'stat -c %a .kamal/apps/shop/env/roles/workers.env')).toBe('600')
    expect(dockerOn(harness, worker, ['ps', '--filter', 'name=kamal-proxy', '--format', '{{.Names}}'])).toBe('')
    expect(run.summary).toMatch(/\| 10\.213\.0\.11 ★ \| web \| none → v1 \| ✅ \d+\.\ds \|/)
  }, 240_000)

  test('v2 under steady traffic: every response 200, versions flip from v1 to v2', async () => {
    project.write(appFiles('v2'))
    project.commit('v2')
    const load = startLoad(WEB, HOST_HEADER, RATE_PER_HOST)
    const run = await act({ version: 'v2' })
    await new Promise((resolve) => setTimeout(resolve, 500))
    const report = await load.stop()
    process.stdout.write(`v2 deploy under load: ${report.requests} requests (${report.perSecond.toFixed(0)}/s over ${WEB.length} hosts), ${report.failures} failed, statuses ${JSON.stringify(report.statuses)}, versions seen ${JSON.stringify(report.versions)}\n`)
    expect(run.status).toBe(0)
    expect(report.perSecond).toBeGreaterThanOrEqual(50)
    expect(report.failures).toBe(0)
    for (const address of WEB) expect(report.versions[address]).toEqual(['v1', 'v2'])
    for (const address of WEB) expect(await servedVersion(address)).toBe('v2')
    expect(dockerOn(harness, hostName(WEB[0]), ['inspect', '--format', '{{.State.Status}}', 'shop-web-v1'])).toBe('exited')
  }, 240_000)

  test('v3 whose /up fails: exit 1, annotations per host and role with the log tail, v2 keeps serving, lock released', async () => {
    project.write(appFiles('v3', { healthy: false }))
    project.commit('v3 with a broken health check')
    const load = startLoad(WEB, HOST_HEADER, RATE_PER_HOST)
    const run = await act({ version: 'v3' })
    const report = await load.stop()
    process.stdout.write(`v3 (failing) deploy under load: ${report.requests} requests, ${report.failures} failed, versions seen ${JSON.stringify(report.versions)}\n`)
    expect(run.status).toBe(1)
    expect(run.outputs.result).toBe('failed')
    expect(github.calls[github.calls.length - 1].body).toMatchObject({ state: 'failure', description: 'deploy v3: failed' })
    const annotations = errorAnnotations(run.stdout)
    const web = annotations.find((annotation) => annotation.message.startsWith(`Failed to boot web on ${WEB[0]}`))
    expect(web?.message).toContain('kamal-proxy deploy')
    expect(web?.message).toMatch(/Last log lines of the new container:\n.*response:404/s)
    expect(run.stdout).toMatch(/::error title=Deploy failed on 10\.213\.0\.11 \(web\)::/)
    expect(annotations.some((annotation) => annotation.message.includes(`not booting workers on ${WORKER}`))).toBe(true)
    expect(report.failures).toBe(0)
    for (const address of WEB) expect(report.versions[address]).toEqual(['v2'])
    for (const address of WEB) {
      expect(await servedVersion(address)).toBe('v2')
      expect(dockerOn(harness, hostName(address), ['inspect', '--format', '{{.State.Status}}', 'shop-web-v3'])).toBe('exited')
    }
    expect(dockerOn(harness, hostName(WORKER), ['inspect', '--format', '{{.State.Status}}', 'shop-workers-v2'])).toBe('running')
    // Held back, as Kamal holds it: no v3 container on the worker host at all.
    expect(dockerOn(harness, hostName(WORKER), ['ps', '--all', '--filter', 'name=^shop-workers-v3$', '--format', '{{.Names}}'])).toBe('')
    expect(onHost(hostName(WEB[0]), 'test -e .kamal/lock-shop && echo held || echo free')).toBe('free')
    expect(run.summary).toContain('❌ 10.213.0.11 (web)')
    expect(run.outputs['failed-hosts']).toBe(WEB.join(','))
  }, 240_000)

  test('a lock taken the way Kamal takes it: a clear error naming the holder, nothing changed', async () => {
    const details = Buffer.from('Locked by: Alice at 2026-11-21T10:00:00Z\nVersion: abc123\nMessage: Manual maintenance').toString('base64')
    onHost(hostName(WEB[0]), `mkdir -p .kamal/lock-shop && echo "${details}" > .kamal/lock-shop/details`)
    const before = WEB.map((address) => dockerOn(harness, hostName(address), ['ps', '--format', '{{.Names}}']))
    try {
      const run = await act({ version: 'v2', command: 'redeploy' })
      expect(run.status).toBe(1)
      const [annotation] = errorAnnotations(run.stdout)
      expect(annotation.message).toContain(`Deploy lock found on ${WEB[0]}`)
      expect(annotation.message).toContain('Locked by: Alice at 2026-11-21T10:00:00Z')
      expect(annotation.message).toContain('Message: Manual maintenance')
      expect(WEB.map((address) => dockerOn(harness, hostName(address), ['ps', '--format', '{{.Names}}']))).toEqual(before)
      expect(onHost(hostName(WEB[0]), 'cat .kamal/lock-shop/details')).toBe(details)
    } finally {
      onHost(hostName(WEB[0]), 'rm -r .kamal/lock-shop')
    }
  }, 240_000)

  test('rollback to v1 serves v1; redeploy of v2 does not build', async () => {
    const rollback = await act({ command: 'rollback', version: 'v1' })
    expect(rollback.status).toBe(0)
    for (const address of WEB) expect(await servedVersion(address)).toBe('v1')
    expect(rollback.stdout).not.toContain('Build and push')

    const redeploy = await act({ command: 'redeploy', version: 'v2' })
    expect(redeploy.status).toBe(0)
    expect(redeploy.stdout).not.toContain('Build and push')
    for (const address of WEB) expect(await servedVersion(address)).toBe('v2')
  }, 240_000)

  test('ssh-known-hosts with a different key for a host: refused before any remote command', async () => {
    const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'other-key-'))
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(keyDir, 'key')])
    const otherKey = fs.readFileSync(path.join(keyDir, 'key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')
    const knownHosts = fs
      .readFileSync(harness.knownHosts, 'utf8')
      .split('\n')
      .map((line) => (line.startsWith(`${WEB[1]} `) ? `${WEB[1]} ${otherKey}` : line))
      .join('\n')
    const audit = () => [...WEB, WORKER].map((address) => onHost(hostName(address), 'wc -l < .kamal/shop-audit.log'))
    const before = audit()
    const run = await act({ version: 'v2', command: 'redeploy', 'ssh-known-hosts': knownHosts })
    expect(run.status).toBe(1)
    const [annotation] = errorAnnotations(run.stdout)
    expect(annotation.message).toContain(`Host key of ${WEB[1]} does not match ssh-known-hosts`)
    expect(audit()).toEqual(before)
  }, 240_000)

  test('through a jump host (ssh.proxy), and without ssh-known-hosts: each host key is a warning with the line to pin', async () => {
    const jumpProject = new AppProject({
      'config/deploy.yml': `service: jumpy\nimage: e2e/jumpy\nservers:\n  - ${WORKER}\nssh:\n  proxy: root@${WEB[0]}\nregistry:\n  server: 10.213.0.1:5000\n  username: deployer\n  password: unused\nbuilder:\n  arch: amd64\n`,
    })
    const run = await startAction(jumpProject.dir, { command: 'lock status', 'ssh-private-key': fs.readFileSync(harness.privateKey, 'utf8') }, { DOCKER_HOST: harness.runner.dockerHost }).finished
    expect(run.status).toBe(0)
    expect(run.summary).toContain('There is no deploy lock')
    const warnings = run.stdout.split('\n').filter((line) => line.startsWith('::warning title=Unpinned host key'))
    expect(warnings.map((line) => /Unpinned host key%3A ([\d.]+)/.exec(line)?.[1]).sort()).toEqual([WEB[0], WORKER])
    const pinned = fs.readFileSync(harness.knownHosts, 'utf8')
    for (const warning of warnings) {
      const pinLine = warning.split('%0A')[1]
      expect(pinned).toContain(pinLine)
    }
  }, 120_000)

  test('no secret value in any log, summary, output or process argv on the hosts', () => {
    const visible = runs.map((run) => [run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n'), run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n'))
    for (const secret of SECRET_VALUES) for (const text of visible) expect(text).not.toContain(secret)
    const seen = argv.stop()
    process.stdout.write(`argv watch: ${seen.samples} samples of every process on the machine, ${seen.processes} distinct command lines\n`)
    expect(seen.samples).toBeGreaterThan(100)
    expect(seen.leaks).toEqual([])
  })
})
