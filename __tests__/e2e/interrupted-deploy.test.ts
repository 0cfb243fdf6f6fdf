import { startAction, type ActionRun } from '../support/run-action'
import { AppProject, appFiles } from './support/app-project'
import { dockerOn, get, HARNESS_REGISTRY_AND_BUILDER, harnessAccess, harnessDown, harnessUp, startLoad, type HarnessState } from './support/harness'

// A deploy interrupted after kamal-proxy switched to its container, before the old container's stop
// and the `latest` tag (the job cancelled mid-boot, the runner gone): the new container serves, the
// old one still runs, and `latest` still names the old image. Kamal's stale check takes the
// container of the `latest` image for the current one, so its next deploy stops the serving one.
// Here the version kamal-proxy routes to stays the current one, and the stale stop waits for the
// image: a deploy that fails (its build, its health check) leaves it serving, one that works swaps with
// no failed request.
const HOST = '10.213.0.11'
const HOST_HEADER = 'resume.test'
const CONFIG = `service: resume
image: e2e/resume
servers:
  web:
    hosts:
      - ${HOST}
proxy:
  host: ${HOST_HEADER}
  healthcheck: { path: /up }
${HARNESS_REGISTRY_AND_BUILDER}deploy_timeout: 10
drain_timeout: 1
`
const IMAGE = '10.213.0.1:5000/e2e/resume'

let harness: HarnessState
let project: AppProject

async function deploy(version: string, files: Record<string, string> = appFiles(version)): Promise<ActionRun> {
  project.write(files)
  project.commit(version)
  const access = harnessAccess(harness)
  return startAction(project.dir, { command: 'deploy', version, ...access.inputs, secrets: 'KAMAL_REGISTRY_PASSWORD=pw' }, access.env).finished
}

const running = () => dockerOn(harness, 'host1', ['ps', '--filter', 'label=service=resume', '--format', '{{.Names}}']).split('\n').filter(Boolean).sort()
const served = async () => {
  const answer = await get(HOST, HOST_HEADER, '/version')
  return answer.status === 200 ? answer.body.trim() : `HTTP ${answer.status} ${answer.body}`
}

beforeAll(async () => {
  harness = harnessUp(1)
  project = new AppProject({ 'config/deploy.yml': CONFIG, '.kamal/secrets': 'KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD\n', ...appFiles('v1') })
  for (const version of ['v1', 'v2']) {
    const run = await deploy(version)
    if (run.status !== 0) process.stdout.write(run.stdout.slice(-4000))
    expect(run.status).toBe(0)
  }
  await interruptV2()
}, 240_000)

/** v2's deploy as if interrupted after the switch: v1 running again, `latest` back on v1's image. */
async function interruptV2(): Promise<void> {
  dockerOn(harness, 'host1', ['start', 'resume-web-v1', 'resume-web-v2'])
  dockerOn(harness, 'host1', ['tag', `${IMAGE}:v1`, `${IMAGE}:latest`])
  expect(running()).toEqual(['resume-web-v1', 'resume-web-v2'])
  expect(await served()).toBe('v2')
}

afterAll(() => {
  if (!process.env.KEEP_HARNESS) harnessDown()
}, 60_000)

test('after an interrupted deploy, the next deploy whose build fails leaves the serving container running and serving', async () => {
  const broken = appFiles('v3')
  broken.Dockerfile = broken.Dockerfile.replace('RUN echo ok > /www/up', 'RUN echo the build fails && false')
  const run = await deploy('v3', broken)
  expect(run.status).not.toBe(0)
  expect(run.stdout).toContain('the build fails')
  expect(running()).toEqual(['resume-web-v1', 'resume-web-v2'])
  expect(await served()).toBe('v2')
}, 120_000)

test('a deploy whose health check fails stops only the container kamal-proxy does not route to; the serving one goes on serving', async () => {
  const run = await deploy('v3b', appFiles('v3b', { healthy: false }))
  expect(run.status).not.toBe(0)
  expect(run.stdout).toContain('kamal-proxy routes resume-web to v2, not to v1')
  expect(running()).toEqual(['resume-web-v2'])
  expect(await served()).toBe('v2')
}, 120_000)

test('the next good deploy swaps with no failed request, and leaves no other container running', async () => {
  await interruptV2()
  const load = startLoad([HOST], HOST_HEADER, 30)
  const run = await deploy('v4')
  const traffic = await load.stop()
  if (run.status !== 0) process.stdout.write(run.stdout.slice(-4000))
  expect(run.status).toBe(0)
  expect(traffic.requests).toBeGreaterThan(10)
  expect(traffic.failures).toBe(0)
  expect(await served()).toBe('v4')
  expect(running()).toEqual(['resume-web-v4'])
}, 120_000)
