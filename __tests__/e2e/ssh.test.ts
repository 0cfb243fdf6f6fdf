import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { startAction, type ActionRun } from '../support/run-action'
import { AppProject, appFiles } from './support/app-project'
import { HARNESS, harnessDown, onHost, readState, type HarnessHost, type HarnessState } from './support/harness'

// SSH the way Kamal reaches hosts, on real sshds that have no `Subsystem sftp` line:
// host1 admits connections only from host2, host3 only from host1.
const SECRET = 'e2e-ssh-secret-7f3a'
const HOST1 = '10.213.0.11'
const HOST2 = '10.213.0.12'
const HOST3 = '10.213.0.13'

interface HostRecord {
  name: string
  address: string
  commandsLog: string
  sftp: boolean
  onlyVia?: string
}

type Harness = Omit<HarnessState, 'hosts'> & { hosts: Array<HarnessHost & HostRecord> }
let harness: Harness
let sshFlags: string

const config = (service: string, host: string, ssh: string) => `service: ${service}
image: e2e/${service}
servers:
  web:
    hosts:
      - ${host}
proxy:
  host: ${service}.test
  healthcheck:
    path: /up
    interval: 1
registry:
  server: 10.213.0.1:5000
  username: deployer
  password: any
builder:
  arch: amd64
  driver: docker
env:
  secret:
    - APP_SECRET
ssh:
${ssh}
deploy_timeout: 20
readiness_delay: 1
`

async function deploy(service: string, host: string, ssh: string): Promise<ActionRun> {
  const project = new AppProject({ 'config/deploy.yml': config(service, host, ssh), ...appFiles('v1') })
  const inputs = {
    command: 'deploy',
    version: 'v1',
    'ssh-private-key': fs.readFileSync(harness.privateKey, 'utf8'),
    'ssh-known-hosts': fs.readFileSync(harness.knownHosts, 'utf8'),
    secrets: `APP_SECRET=${SECRET}`,
    deployment: 'false',
  }
  const run = await startAction(project.dir, inputs, { DOCKER_HOST: harness.runner.dockerHost }).finished
  if (run.status !== 0) process.stdout.write(`action output (exit ${run.status}):\n${run.stdout.slice(-6000)}\n${run.stderr.slice(-2000)}\n`)
  return run
}

const logOf = (name: string) => fs.readFileSync(harness.hosts.find((host) => host.name === name)?.commandsLog ?? '', 'utf8')

function expectDeployedWithEnvFile(hostName: string, service: string): void {
  expect(onHost(hostName, `stat -c "%a" .kamal/apps/${service}/env/roles/web.env`)).toBe('600')
  expect(onHost(hostName, `cat .kamal/apps/${service}/env/roles/web.env`)).toBe(`APP_SECRET=${SECRET}`)
  expect(onHost(hostName, `ls -a .kamal/apps/${service}/env/roles`).split('\n').filter((name) => name.endsWith('.tmp'))).toEqual([])
  expect(onHost(hostName, `docker inspect --format '{{.State.Status}}' ${service}-web-v1`)).toBe('running')
}

beforeAll(() => {
  execFileSync(path.join(HARNESS, 'install-deps.sh'), { stdio: 'inherit' })
  execFileSync(path.join(HARNESS, 'hosts.sh'), ['up', '3'], { stdio: 'inherit', env: { ...process.env, KDH_NO_SFTP: 'all', KDH_ONLY_VIA: 'host1=host2 host3=host1' } })
  harness = readState() as unknown as Harness
  sshFlags = `-i ${harness.privateKey} -o UserKnownHostsFile=${harness.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes`
}, 180_000)

afterAll(() => {
  if (!process.env.KEEP_HARNESS) harnessDown()
}, 60_000)

describe('SSH as Kamal does it', () => {
  test('the harness hosts have no sftp subsystem and admit only their one neighbour', () => {
    expect(harness.hosts.map((host) => [host.name, host.sftp, host.onlyVia])).toEqual([
      ['host1', false, 'host2'],
      ['host2', false, undefined],
      ['host3', false, 'host1'],
    ])
    expect(fs.readFileSync(`/var/lib/kdh-harness/host2/sshd_config`, 'utf8')).not.toMatch(/^Subsystem/m)
  })

  test('ssh.proxy_command: a deploy to host1 (reachable only from host2) over `ssh -W %h:%p` through host2, env files written without SFTP', async () => {
    const started = Date.now()
    const run = await deploy('viacmd', HOST1, `  proxy_command: ssh ${sshFlags} -W %h:%p root@${HOST2}`)
    expect(run.status).toBe(0)
    process.stdout.write(`proxy_command deploy: ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
    expectDeployedWithEnvFile('host1', 'viacmd')
  })

  test('ssh.proxy with two hops reaches host3, visiting them as Net::SSH does (second, then first)', async () => {
    const started = Date.now()
    // Net::SSH runs `ssh -l root -J root@host2 -W %h:%p host1`: host2, then host1, then host3.
    const run = await deploy('viajump', HOST3, `  proxy: root@${HOST1},root@${HOST2}`)
    expect(run.status).toBe(0)
    process.stdout.write(`two-hop deploy: ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
    expectDeployedWithEnvFile('host3', 'viajump')
  })

  test('the same hops in the other order cannot reach host3 and fail before any command runs there', async () => {
    const before = logOf('host3')
    const run = await deploy('wrongway', HOST3, `  proxy: root@${HOST2},root@${HOST1}`)
    expect(run.status).not.toBe(0)
    expect(run.stdout).toMatch(/10\.213\.0\.11/)
    expect(logOf('host3')).toBe(before)
  })

  test("commands.log lists the deploy's commands in order, with no secret in them", () => {
    const log = logOf('host3')
    const lines = log.trim().split('\n')
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\t/)
    const commands = lines.map((line) => line.split('\t')[1])
    const index = (pattern: RegExp) => commands.findIndex((command) => pattern.test(command))
    expect(index(/cat > .*\.kamal\/apps\/viajump\/env\/roles\/\.web\.env\.[0-9a-f]+\.tmp/)).toBeGreaterThanOrEqual(0)
    expect(index(/docker run .*--name viajump-web-v1/)).toBeGreaterThan(index(/cat > .*web\.env/))
    expect(index(/kamal-proxy deploy viajump-web/)).toBeGreaterThan(index(/docker run .*--name viajump-web-v1/))
    expect(log).not.toContain(SECRET)
    expect(logOf('host1')).not.toContain(SECRET)
  })
})
