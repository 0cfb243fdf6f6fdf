import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { errorAnnotations, startAction, type ActionRun } from '../support/run-action'
import { AppProject, appFiles } from './support/app-project'
import { get, harnessDown, harnessUp, onHost, type HarnessState } from './support/harness'

// Cancelling a deploy the way GitHub does (SIGINT, and a kill if it takes too
// long): hosts keep serving a healthy version and the deploy lock is released —
// by the main step when it can finish, by the post step when it was killed.
const WEB = ['10.213.0.11', '10.213.0.12']
const HOST_HEADER = 'cancel.test'
const CONFIG = `service: cancel
image: e2e/cancel
servers:
  web:
    - ${WEB[0]}
    - ${WEB[1]}
proxy:
  host: ${HOST_HEADER}
  healthcheck: { path: /up, interval: 1, timeout: 2 }
registry:
  server: 10.213.0.1:5000
  username: deployer
  password: not-checked-by-this-registry
builder:
  arch: amd64
  driver: docker
deploy_timeout: 20
drain_timeout: 2
`

let harness: HarnessState
let project: AppProject

const inputs = (version: string) => ({
  command: 'deploy',
  version,
  'ssh-private-key': fs.readFileSync(harness.privateKey, 'utf8'),
  'ssh-known-hosts': fs.readFileSync(harness.knownHosts, 'utf8'),
})

/** v<n> whose health check passes only after `delaySeconds`, so its boot is slow enough to interrupt. */
function slowVersion(version: string, delaySeconds: number): void {
  const files = appFiles(version)
  files.Dockerfile = files.Dockerfile.replace('RUN echo ok > /www/up', 'RUN true').replace(
    /CMD .*/,
    `CMD ["sh", "-c", "trap 'exit 0' TERM; (sleep ${delaySeconds}; echo ok > /www/up) & httpd -f -v -p 80 -h /www & wait"]`,
  )
  project.write(files)
  project.commit(version)
}

async function served(): Promise<Array<{ status: number; body: string }>> {
  return Promise.all(WEB.map((address) => get(address, HOST_HEADER, '/version').then((answer) => ({ status: answer.status, body: answer.body.trim() }))))
}

const lockState = () => onHost('host1', 'test -e .kamal/lock-cancel && echo held || echo free')

function postStep(main: ActionRun, version: string): Promise<ActionRun> {
  return startAction(project.dir, inputs(version), { DOCKER_HOST: harness.runner.dockerHost }, main.stateFile).finished
}

beforeAll(async () => {
  harness = harnessUp(2)
  project = new AppProject({ 'config/deploy.yml': CONFIG, ...appFiles('v1') })
  const first = await startAction(project.dir, inputs('v1'), { DOCKER_HOST: harness.runner.dockerHost }).finished
  if (first.status !== 0) throw new Error(`v1 deploy failed:\n${first.stdout}`)
}, 180_000)

afterAll(() => {
  if (!process.env.KEEP_HARNESS) harnessDown()
}, 60_000)

test('SIGINT during boot: the boot under way finishes, nothing more starts, lock released, summary says cancelled, exit non-zero', async () => {
  slowVersion('v2', 4)
  const action = startAction(project.dir, inputs('v2'), { DOCKER_HOST: harness.runner.dockerHost })
  await action.waitFor(/Booting v2 on/)
  process.kill(action.pid, 'SIGINT')
  const run = await action.finished

  expect(run.status).not.toBe(0)
  expect(run.outputs.result).toBe('cancelled')
  expect(run.summary.split('\n')[0]).toContain(' was cancelled in ')
  expect(run.stdout).toContain('SIGINT received')
  expect(errorAnnotations(run.stdout).map((annotation) => annotation.message)).toEqual([expect.stringContaining('The deploy was cancelled')])
  expect(lockState()).toBe('free')
  for (const answer of await served()) expect(answer).toEqual({ status: 200, body: expect.stringMatching(/^v[12]$/) })

  const post = await postStep(run, 'v2')
  expect(post.status).toBe(0)
  expect(post.stdout).not.toContain('releasing it')
  expect(lockState()).toBe('free')
}, 180_000)

test('killed while holding the lock: the post step (with the saved state) releases it; hosts keep serving', async () => {
  slowVersion('v3', 6)
  const action = startAction(project.dir, inputs('v3'), { DOCKER_HOST: harness.runner.dockerHost })
  await action.waitFor(/Booting v3 on/)
  process.kill(action.pid, 'SIGKILL')
  const run = await action.finished
  expect(run.status).toBeNull()
  expect(lockState()).toBe('held')
  expect(fs.readFileSync(run.stateFile, 'utf8')).toContain('deploy-lock')

  const post = await postStep(run, 'v3')
  expect(post.status).toBe(0)
  expect(post.stdout).toContain('releasing it')
  expect(post.stdout).toContain('Released the deploy lock .kamal/lock-cancel on 10.213.0.11')
  expect(lockState()).toBe('free')
  const removed = /Removed (\S*kamal-clones\/cancel-\w+)/.exec(post.stdout)?.[1]
  expect(removed).toBeDefined()
  expect(fs.existsSync(removed as string)).toBe(false)
  await new Promise((resolve) => setTimeout(resolve, 7000))
  for (const answer of await served()) expect(answer).toEqual({ status: 200, body: expect.stringMatching(/^v[123]$/) })
}, 180_000)

test('SIGINT during the build: the build is stopped, no host gets the new version, lock released, result cancelled', async () => {
  const files = appFiles('v4')
  // A build step slow enough to interrupt, with a sleep no other process here has.
  files.Dockerfile = files.Dockerfile.replace('RUN echo ok > /www/up', 'RUN sleep 47 && echo ok > /www/up')
  project.write(files)
  project.commit('v4')
  const action = startAction(project.dir, inputs('v4'), { DOCKER_HOST: harness.runner.dockerHost })
  // (pgrep's pattern does not match itself: "sleep 4[7]")
  const building = () => spawnSync('pgrep', ['-f', 'sleep 4[7]'], { encoding: 'utf8' }).stdout.trim() !== ''
  const deadline = Date.now() + 60_000
  while (!building() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200))
  expect(building()).toBe(true)
  const interruptedAt = Date.now()
  process.kill(action.pid, 'SIGINT')
  const run = await action.finished
  const tookMs = Date.now() - interruptedAt
  process.stdout.write(`cancelled build: the action ended ${tookMs} ms after SIGINT\n`)

  expect(run.status).not.toBe(0)
  expect(tookMs).toBeLessThan(20_000)
  expect(run.outputs.result).toBe('cancelled')
  expect(errorAnnotations(run.stdout).map((annotation) => annotation.message)).toEqual([expect.stringContaining('The deploy was cancelled')])
  const record = JSON.parse(fs.readFileSync(run.outputs.record, 'utf8')) as Array<{ kind: string; command: string; outcome: string }>
  expect(record.filter((entry) => entry.kind === 'runner' && /^docker (buildx )?build /.test(entry.command)).map((entry) => entry.outcome)).toEqual(['stopped'])
  expect(record.some((entry) => /docker (pull|run) /.test(entry.command))).toBe(false)
  expect(lockState()).toBe('free')
  for (const answer of await served()) expect(answer).toEqual({ status: 200, body: expect.stringMatching(/^v[123]$/) })
  // The build's own processes are gone too, not left to finish and push.
  await new Promise((resolve) => setTimeout(resolve, 3000))
  expect(building()).toBe(false)
}, 180_000)
