import { errorAnnotations, startAction, type ActionRun } from '../support/run-action'
import { AppProject } from './support/app-project'
import { get, HARNESS_REGISTRY_AND_BUILDER, harnessAccess, harnessDown, harnessUp, startLoad, type HarnessState } from './support/harness'

// all-or-nothing: the last host's health check fails; every host ends on the previous version.
// Without it, Kamal's behaviour: the hosts that booted keep the new version.
const HOSTS = ['10.213.0.11', '10.213.0.12', '10.213.0.13']
const HOST_HEADER = 'whole.test'
const CONFIG = `service: whole
image: e2e/whole
servers:
  web:
    hosts:
      - ${HOSTS[0]}
      - ${HOSTS[1]}
      - ${HOSTS[2]}: [flaky]
env:
  tags:
    flaky:
      BROKEN_IN: v2
proxy:
  host: ${HOST_HEADER}
  healthcheck: { path: /up }
${HARNESS_REGISTRY_AND_BUILDER}deploy_timeout: 4
drain_timeout: 2
`

// The version's health check fails where BROKEN_IN names it (only the tagged host).
const files = (version: string): Record<string, string> => ({
  Dockerfile: [
    'FROM busybox:harness',
    'COPY www /www',
    'RUN echo ok > /www/up',
    `CMD ["sh", "-c", "trap 'exit 0' TERM; [ \\"$BROKEN_IN\\" = \\"$(cat /www/version)\\" ] && rm -f /www/up; httpd -f -p 80 -h /www & wait"]`,
    '',
  ].join('\n'),
  'www/version': `${version}\n`,
})

let harness: HarnessState
let project: AppProject

async function deploy(version: string, extra: Record<string, string> = {}): Promise<ActionRun> {
  const access = harnessAccess(harness)
  return startAction(project.dir, { command: 'deploy', version, ...access.inputs, secrets: 'KAMAL_REGISTRY_PASSWORD=pw', ...extra }, access.env).finished
}

const served = async (address: string) => {
  const answer = await get(address, HOST_HEADER, '/version')
  return answer.status === 200 ? answer.body.trim() : `HTTP ${answer.status}`
}

beforeAll(async () => {
  harness = harnessUp(3)
  project = new AppProject({ 'config/deploy.yml': CONFIG, '.kamal/secrets': 'KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD\n', ...files('v1') })
  const first = await deploy('v1')
  if (first.status !== 0) process.stdout.write(first.stdout.slice(-4000))
  expect(first.status).toBe(0)
}, 240_000)

afterAll(() => {
  if (!process.env.KEEP_HARNESS) harnessDown()
}, 60_000)

describe('all-or-nothing deploys', () => {
  test('the last host fails its health check: every host serves the previous version, 0 failed requests, one annotation, a line per host rolled back', async () => {
    project.write(files('v2'))
    project.commit('v2')
    const load = startLoad(HOSTS, HOST_HEADER, 30)
    const run = await deploy('v2', { 'all-or-nothing': 'true' })
    const traffic = await load.stop()
    expect(run.status).toBe(1)
    expect(traffic.failures).toBe(0)
    for (const address of HOSTS) expect(await served(address)).toBe('v1')
    const annotations = errorAnnotations(run.stdout)
    expect(annotations).toHaveLength(1)
    expect(annotations[0].message).toContain(`on ${HOSTS[2]}`)
    for (const address of HOSTS.slice(0, 2)) expect(run.stdout).toMatch(new RegExp(`Rolled back ${address.replace(/\./g, '\\.')} \\(web\\): rolled back web on ${address.replace(/\./g, '\\.')} to the previous version: ${HOSTS[2].replace(/\./g, '\\.')} failed`))
    expect(run.summary).toMatch(/↩️ rolled back/)
  }, 120_000)

  test('without it, Kamal’s behaviour: the hosts that booted keep the new version, the failing one its old', async () => {
    const run = await deploy('v2')
    expect(run.status).toBe(1)
    expect(await served(HOSTS[0])).toBe('v2')
    expect(await served(HOSTS[1])).toBe('v2')
    expect(await served(HOSTS[2])).toBe('v1')
    expect(run.stdout).not.toMatch(/Rolled back/)
  }, 120_000)
})
