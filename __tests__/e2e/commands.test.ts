import * as fs from 'node:fs'
import { startAction, type ActionRun } from '../support/run-action'
import { AppProject, appFiles } from './support/app-project'
import { dockerOn, get, harnessDown, harnessUp, onHost, startLoad, type HarnessState } from './support/harness'

// Kamal's other commands on two real hosts: build once / deploy later, app exec,
// logs and details, proxy reboot under load, remove.
const HOST_HEADER = 'ops.test'
const WEB = ['10.213.0.11', '10.213.0.12']
const IMAGE = '10.213.0.1:5000/e2e/ops'
const CONFIG = `service: ops
image: e2e/ops
servers:
  web:
    hosts:
      - ${WEB[0]}
      - ${WEB[1]}
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
deploy_timeout: 10
drain_timeout: 2
`

let harness: HarnessState
let project: AppProject

async function act(extra: Record<string, string>): Promise<ActionRun> {
  const inputs = {
    'ssh-private-key': fs.readFileSync(harness.privateKey, 'utf8'),
    'ssh-known-hosts': fs.readFileSync(harness.knownHosts, 'utf8'),
    secrets: 'KAMAL_REGISTRY_PASSWORD=any-e2e-password',
    deployment: 'false',
    ...extra,
  }
  const run = await startAction(project.dir, inputs, { DOCKER_HOST: harness.runner.dockerHost, DOCKER_BUILDKIT: '0' }).finished
  process.stdout.write(`--- ${extra.command} (exit ${run.status})\n${run.stdout.slice(-3000)}\n`)
  return run
}

const hostName = (address: string) => harness.hosts.find((host) => host.address === address)?.name ?? address
const docker = (address: string, args: string[]) => dockerOn(harness, hostName(address), args).trim()
const names = (address: string, filter: string) => docker(address, ['ps', '-a', '--filter', filter, '--format', '{{.Names}}']).split('\n').filter(Boolean)

beforeAll(() => {
  harness = harnessUp(2)
  project = new AppProject({ 'config/deploy.yml': CONFIG, '.kamal/secrets': 'KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD\n', ...appFiles('v1') })
}, 180_000)

afterAll(() => {
  if (!process.env.KEEP_HARNESS) harnessDown()
}, 60_000)

describe("Kamal's other commands on real hosts", () => {
  let digest = ''

  test('build push in one run sets image/version/digest and touches no host; deploy with skip-push in another deploys that exact image', async () => {
    const build = await act({ command: 'build push', version: 'v1' })
    expect(build.status).toBe(0)
    expect(build.outputs).toMatchObject({ image: `${IMAGE}:v1`, version: 'v1', result: 'success', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) })
    digest = build.outputs.digest
    for (const address of WEB) expect(names(address, 'label=service=ops')).toEqual([])

    const deploy = await act({ command: 'deploy', version: 'v1', 'skip-push': 'true' })
    expect(deploy.status).toBe(0)
    expect(deploy.stdout).not.toContain('Build and push')
    for (const address of WEB) {
      const repoDigests = JSON.parse(docker(address, ['image', 'inspect', '--format', '{{json .RepoDigests}}', `${IMAGE}:v1`])) as string[]
      expect(repoDigests).toContain(`${IMAGE}@${digest}`)
      expect((await get(address, HOST_HEADER, '/version')).body.trim()).toBe('v1')
    }
    process.stdout.write(`build push digest ${digest} = the RepoDigest on ${WEB.join(' and ')}\n`)
  })

  test('app exec: output in the log and summary, the step exits with the command status, no container left behind', async () => {
    const run = await act({ command: `app exec "sh -c 'echo exec-says-hello; cat /www/version; exit 3'"` })
    expect(run.status).toBe(3)
    expect(run.stdout).toContain('Launching command with version latest from new container...')
    for (const address of WEB) expect(run.stdout).toContain(`App Host: ${address}`)
    expect(run.stdout.match(/exec-says-hello/g)?.length).toBeGreaterThanOrEqual(2)
    expect(run.summary).toContain(`App Host: ${WEB[0]} — exit 3`)
    expect(run.summary).toContain('exec-says-hello')
    for (const address of WEB) expect(names(address, 'name=ops-web-exec')).toEqual([])
  })

  test('app exec --reuse runs in the running container; --roles/--version from the command', async () => {
    const run = await act({ command: `app exec --reuse --roles=web "sh -c 'echo reused > /tmp/reuse-mark; hostname'"` })
    expect(run.status).toBe(0)
    for (const address of WEB) {
      expect(docker(address, ['exec', 'ops-web-v1', 'cat', '/tmp/reuse-mark'])).toBe('reused')
      const hostname = docker(address, ['inspect', '--format', '{{.Config.Hostname}}', 'ops-web-v1'])
      expect(run.stdout).toContain(hostname)
    }
    const explicit = await act({ command: 'app exec --version=v1 -h 10.213.0.12 "cat /www/version"' })
    expect(explicit.status).toBe(0)
    expect(explicit.stdout).toContain(`App Host: ${WEB[1]}`)
    expect(explicit.stdout).not.toContain(`App Host: ${WEB[0]}`)
  })

  test('app logs and app details: each host in the log and the summary', async () => {
    const logs = await act({ command: 'app logs -n 20' })
    expect(logs.status).toBe(0)
    const details = await act({ command: 'app details' })
    expect(details.status).toBe(0)
    for (const address of WEB) {
      expect(logs.stdout).toContain(`App Host: ${address}`)
      expect(logs.summary).toContain(`App Host: ${address}`)
      expect(details.stdout).toContain(`App Host: ${address}`)
      expect(details.summary).toMatch(new RegExp(`App Host: ${address.replace(/\./g, '\\.')}[\\s\\S]*ops-web-v1`))
    }
    // busybox httpd -v logs each request: every host's section has its own lines.
    for (const address of WEB) expect(logs.stdout).toMatch(new RegExp(`App Host: ${address.replace(/\./g, '\\.')}\n\\d{4}-\\d\\d-\\d\\dT[^\n]*response:200`))
  })

  test('proxy reboot: refused without confirm; --rolling one host at a time under load, routes restored; compared with docker restart', async () => {
    const proxyIds = () => WEB.map((address) => docker(address, ['inspect', '--format', '{{.Id}}', 'kamal-proxy']))
    const before = proxyIds()
    const refused = await act({ command: 'proxy reboot --rolling' })
    expect(refused.status).not.toBe(0)
    expect(refused.stdout).toContain("Input 'confirm'")
    expect(proxyIds()).toEqual(before)

    const load = startLoad(WEB, HOST_HEADER, 40)
    const reboot = await act({ command: 'proxy reboot --rolling', confirm: 'true' })
    const during = await load.stop()
    expect(reboot.status).toBe(0)
    const after = proxyIds()
    expect(after[0]).not.toBe(before[0])
    expect(after[1]).not.toBe(before[1])
    const order = ['Rebooting kamal-proxy on 10.213.0.11...', 'Rebooting kamal-proxy on 10.213.0.12...'].map((line) => reboot.stdout.indexOf(line))
    expect(order[0]).toBeGreaterThan(-1)
    expect(order[1]).toBeGreaterThan(order[0])
    for (const address of WEB) expect((await get(address, HOST_HEADER, '/version')).body.trim()).toBe('v1')

    const plain = startLoad(WEB, HOST_HEADER, 40)
    for (const address of WEB) docker(address, ['restart', 'kamal-proxy'])
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const restart = await plain.stop()
    process.stdout.write(`proxy reboot --rolling: ${during.failures} failed of ${during.requests} (${JSON.stringify(during.statuses)}); docker restart kamal-proxy one host after the other: ${restart.failures} failed of ${restart.requests} (${JSON.stringify(restart.statuses)})\n`)
    // Each host is down while its proxy restarts (Kamal's "brief outage on each host"); the other host keeps serving.
    expect(during.statuses['200']).toBeGreaterThan(during.requests / 2)
  })

  test('remove: refused without confirm and nothing changes; with confirm no container, image or app file of the service remains', async () => {
    const containers = () => WEB.map((address) => names(address, 'label=service=ops').concat(names(address, 'name=kamal-proxy')).sort())
    const before = containers()
    const refused = await act({ command: 'remove' })
    expect(refused.status).not.toBe(0)
    expect(refused.stdout).toContain("Input 'confirm': remove asks")
    expect(containers()).toEqual(before)

    const run = await act({ command: 'remove', confirm: 'true' })
    expect(run.status).toBe(0)
    for (const address of WEB) {
      expect(names(address, 'label=service=ops')).toEqual([])
      expect(names(address, 'name=kamal-proxy')).toEqual([])
      expect(docker(address, ['image', 'ls', '--filter', 'label=service=ops', '--quiet'])).toBe('')
      expect(docker(address, ['image', 'ls', '--filter', 'label=org.opencontainers.image.title=kamal-proxy', '--quiet'])).toBe('')
      const files = onHost(hostName(address), 'find .kamal -mindepth 1 | sort').trim().split('\n').filter(Boolean)
      // Kamal keeps the audit log (it records the removal itself), the now empty .kamal/apps and the kamal-proxy-config volume.
      expect(files).toEqual(['.kamal/apps', '.kamal/ops-audit.log'])
      expect(onHost(hostName(address), 'ls -A .kamal/apps')).toBe('')
      process.stdout.write(`${address} after remove: files ${files.join(' ')}; volumes ${docker(address, ['volume', 'ls', '--quiet']).split('\n').join(' ')}\n`)
    }
  })
})
