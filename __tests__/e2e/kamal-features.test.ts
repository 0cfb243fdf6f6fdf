import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { errorAnnotations, startAction, type ActionRun } from '../support/run-action'
import { AppProject } from './support/app-project'
import { dockerOn, get, harnessDown, harnessUp, onHost, startLoad, type HarnessState } from './support/harness'

// The rest of a Kamal deploy on real hosts: `setup` with an accessory the app
// depends on, every hook in order, boot groups, asset bridging and error pages.
const WEB = ['10.213.0.11', '10.213.0.12', '10.213.0.13']
const HOST_HEADER = 'feat.test'
const STORE_TOKEN = 'store-token-secret-40f1'
const HOOKS = ['pre-connect', 'docker-setup', 'pre-build', 'pre-deploy', 'pre-app-boot', 'post-app-boot', 'post-deploy']

const CONFIG = `service: feat
image: e2e/feat
servers:
  web:
${WEB.map((address) => `    - ${address}`).join('\n')}
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
boot:
  limit: 1
asset_path: /www/assets
error_pages_path: error_pages
deploy_timeout: 20
drain_timeout: 2
accessories:
  store:
    image: busybox:harness
    roles: [web]
    cmd: sh -c 'echo "$STORE_NAME" > /www/name; httpd -f -p 9000 -h /www'
    env:
      clear:
        STORE_NAME: feature-store
      secret:
        - STORE_TOKEN
    files:
      - config/store/data.txt:/www/data.txt
    directories:
      - store-data:/var/lib/store
`

/** The app answers /up only once it can fetch data.txt from the accessory over the kamal network. */
function appFiles(version: string): Record<string, string> {
  return {
    Dockerfile: [
      'FROM busybox:harness',
      'COPY www /www',
      `CMD ["sh", "-c", "trap 'exit 0' TERM; (until wget -q -O /dev/null http://feat-store:9000/data.txt; do sleep 1; done; echo ok > /www/up) & httpd -f -p 80 -h /www & wait"]`,
      '',
    ].join('\n'),
    'www/version': `${version}\n`,
    [`www/assets/app-${version}.css`]: `/* ${version} */ body { color: black }\n`,
  }
}

const HOOK_SCRIPT = `#!/bin/sh
# Records each hook run with its KAMAL_* variables; fails when asked to.
{
  printf '%s|%s|' "$(basename "$0")" "$(date +%s%N)"
  env | grep '^KAMAL_' | sort | tr '\\n' ' '
  [ -n "$STORE_TOKEN" ] && printf 'SECRETS_SEEN'
  echo
} >> "$HOOK_RECORD"
if [ "$(basename "$0")" = "$FAIL_HOOK" ]; then echo "refusing to deploy today" >&2; exit 3; fi
`

let harness: HarnessState
let project: AppProject
const record = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hooks-')), 'hooks.log')

interface HookCall {
  hook: string
  at: number
  env: Record<string, string>
  secrets: boolean
}

function hookCalls(): HookCall[] {
  if (!fs.existsSync(record)) return []
  return fs
    .readFileSync(record, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [hook, at, rest] = line.split('|')
      const env = Object.fromEntries(rest.split(' ').filter((pair) => pair.startsWith('KAMAL_')).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]))
      return { hook, at: Number(at) / 1e6, env, secrets: rest.includes('SECRETS_SEEN') }
    })
}

function act(extra: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  return startAction(
    project.dir,
    {
      command: 'deploy',
      'ssh-private-key': fs.readFileSync(harness.privateKey, 'utf8'),
      'ssh-known-hosts': fs.readFileSync(harness.knownHosts, 'utf8'),
      secrets: `STORE_TOKEN=${STORE_TOKEN}`,
      ...extra,
    },
    { DOCKER_HOST: harness.runner.dockerHost, HOOK_RECORD: record, ...env },
  ).finished
}

const served = (address: string, urlPath: string) => get(address, HOST_HEADER, urlPath)

beforeAll(() => {
  harness = harnessUp(3)
  const hooks = Object.fromEntries(HOOKS.map((hook) => [`.kamal/hooks/${hook}`, HOOK_SCRIPT]))
  project = new AppProject({
    'config/deploy.yml': CONFIG,
    'config/store/data.txt': 'store data\n',
    'error_pages/503.html': '<h1>Feat is down for maintenance (custom page)</h1>\n',
    ...hooks,
    ...appFiles('v1'),
  })
  for (const hook of HOOKS) fs.chmodSync(path.join(project.dir, '.kamal/hooks', hook), 0o755)
  project.commit('executable hooks')
}, 180_000)

afterAll(() => {
  if (!process.env.KEEP_HARNESS) harnessDown()
}, 60_000)

describe('the rest of a Kamal deploy', () => {
  test('setup on fresh hosts: the accessory runs with its env file, files and directories; the app that needs it serves', async () => {
    const run = await act({ command: 'setup', version: 'v1' })
    if (run.status !== 0) process.stdout.write(run.stdout.slice(-5000))
    expect(run.status).toBe(0)
    for (const address of WEB) {
      const host = harness.hosts.find((item) => item.address === address)?.name ?? ''
      expect(dockerOn(harness, host, ['inspect', '--format', '{{.State.Status}} {{index .Config.Labels "service"}}', 'feat-store'])).toBe('running feat-store')
      expect(onHost(host, 'stat -c %a .kamal/apps/feat/env/accessories/store.env')).toBe('600')
      expect(onHost(host, 'cat .kamal/apps/feat/env/accessories/store.env')).toBe(`STORE_TOKEN=${STORE_TOKEN}`)
      expect(onHost(host, 'cat feat-store/www/data.txt')).toBe('store data')
      expect(onHost(host, 'test -d feat-store/store-data && echo dir')).toBe('dir')
      expect(dockerOn(harness, host, ['exec', 'feat-store', 'cat', '/www/name'])).toBe('feature-store')
      expect((await served(address, '/version')).body.trim()).toBe('v1')
    }
  }, 240_000)

  test('every hook fired once, in Kamal order, with the right KAMAL_* values; boot.limit 1 boots one host at a time', () => {
    const calls = hookCalls()
    expect(calls.map((call) => call.hook)).toEqual(['pre-connect', 'docker-setup', 'pre-build', 'pre-deploy', 'pre-app-boot', 'post-app-boot', 'pre-app-boot', 'post-app-boot', 'pre-app-boot', 'post-app-boot', 'post-deploy'])
    for (const call of calls) expect(call.env).toMatchObject({ KAMAL_COMMAND: 'setup', KAMAL_SERVICE: 'feat', KAMAL_VERSION: 'v1', KAMAL_SERVICE_VERSION: 'feat@v1', KAMAL_PERFORMER: 'deployer@example.com' })
    const byHook = (hook: string) => calls.filter((call) => call.hook === hook)
    expect(byHook('pre-connect')[0].env).toMatchObject({ KAMAL_HOSTS: WEB.join(','), KAMAL_LOCK: 'false' })
    expect(byHook('pre-deploy')[0].env.KAMAL_LOCK).toBe('true')
    expect(byHook('post-deploy')[0].env).toMatchObject({ KAMAL_LOCK: 'false', KAMAL_RUNTIME: expect.stringMatching(/^\d+$/) })
    expect(calls.filter((call) => call.secrets).map((call) => call.hook)).toEqual(['pre-connect', 'pre-deploy', 'post-deploy'])

    // boot groups: one host per group, each group finished before the next started
    const groups = byHook('pre-app-boot').map((call, index) => ({ hosts: call.env.KAMAL_HOSTS, start: call.at, end: byHook('post-app-boot')[index].at }))
    expect(groups.map((group) => group.hosts)).toEqual(WEB)
    for (let index = 1; index < groups.length; index++) expect(groups[index].start).toBeGreaterThan(groups[index - 1].end)
    const booted = WEB.map((address) => {
      const host = harness.hosts.find((item) => item.address === address)?.name ?? ''
      const line = onHost(host, 'grep "Booted app version v1" .kamal/feat-audit.log')
      return Date.parse(/^\[([^\]]+)\]/.exec(line)?.[1] ?? '')
    })
    process.stdout.write(`boot groups (ms since the first pre-app-boot): ${groups.map((group) => `${group.hosts} ${Math.round(group.start - groups[0].start)}–${Math.round(group.end - groups[0].start)}`).join(', ')}\n`)
    expect(booted.every((at, index) => index === 0 || at >= booted[index - 1])).toBe(true)
  })

  test('during a swap with asset_path, the old version’s asset keeps answering 200', async () => {
    project.write(appFiles('v2'))
    project.commit('v2')
    const assetLoad = startLoad(WEB, HOST_HEADER, 20, '/assets/app-v1.css')
    fs.writeFileSync(record, '')
    const run = await act({ version: 'v2' })
    const report = await assetLoad.stop()
    process.stdout.write(`old asset during the v2 swap: ${report.requests} requests, ${report.failures} failed, statuses ${JSON.stringify(report.statuses)}\n`)
    expect(run.status).toBe(0)
    expect(report.failures).toBe(0)
    for (const address of WEB) {
      expect((await served(address, '/version')).body.trim()).toBe('v2')
      expect((await served(address, '/assets/app-v1.css')).status).toBe(200)
      expect((await served(address, '/assets/app-v2.css')).status).toBe(200)
    }
    expect(hookCalls().map((call) => call.hook)).toEqual(['pre-connect', 'pre-build', 'pre-deploy', 'pre-app-boot', 'post-app-boot', 'pre-app-boot', 'post-app-boot', 'pre-app-boot', 'post-app-boot', 'post-deploy'])
  }, 240_000)

  test('a failing pre-deploy hook stops the deploy: old version serving, lock released, hook output in the annotation', async () => {
    project.write({ 'www/version': 'v3\n' })
    project.commit('v3')
    const run = await act({ version: 'v3' }, { FAIL_HOOK: 'pre-deploy' })
    expect(run.status).toBe(1)
    const [annotation] = errorAnnotations(run.stdout)
    expect(annotation.message).toContain('Hook `pre-deploy` failed:')
    expect(annotation.message).toContain('refusing to deploy today')
    for (const address of WEB) expect((await served(address, '/version')).body.trim()).toBe('v2')
    expect(onHost('host1', 'test -e .kamal/lock-feat && echo held || echo free')).toBe('free')
  }, 240_000)

  test('app maintenance serves the custom error page; app live brings the app back', async () => {
    const maintenance = await act({ command: 'app maintenance', version: 'v2' })
    expect(maintenance.status).toBe(0)
    for (const address of WEB) {
      const answer = await served(address, '/version')
      expect(answer.status).toBe(503)
      expect(answer.body).toContain('Feat is down for maintenance (custom page)')
    }
    const live = await act({ command: 'app live', version: 'v2' })
    expect(live.status).toBe(0)
    for (const address of WEB) expect((await served(address, '/version')).body.trim()).toBe('v2')
  }, 240_000)
})
