import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { errorAnnotations, startAction, type ActionRun } from '../support/run-action'
import { AppProject, appFiles } from './support/app-project'
import { dockerOn, get, harnessDown, harnessUp, onHost, startLoad, type HarnessState } from './support/harness'
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github'
import { commentMarker } from '../../src/preview/naming'

// Pull request previews next to the app on the same two hosts, through the
// kamal-proxy stand-in, with the app under traffic the whole time. The action
// runs dist/index.js, as the runner does.
const HOST_HEADER = 'shop.test'
const DOMAIN = 'preview.test'
const WEB = ['10.213.0.11', '10.213.0.12']
const REGISTRY_PASSWORD = 'e2e-registry-secret-71aa'
const RATE_PER_HOST = 40

const CONFIG = `service: shop
image: e2e/shop
servers:
  web:
    hosts:
      - ${WEB[0]}
      - ${WEB[1]}
  workers:
    hosts:
      - ${WEB[1]}
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
deploy_timeout: 10
drain_timeout: 3
readiness_delay: 1
`

let harness: HarnessState
let github: FakeGitHub
const app = new Map<string, AppProject>()
const runs: ActionRun[] = []

const names = () => harness.hosts.filter((host) => WEB.includes(host.address)).map((host) => host.name)

function projectFor(key: string, version: string): AppProject {
  let project = app.get(key)
  if (!project) {
    project = new AppProject({ 'config/deploy.yml': CONFIG, '.kamal/secrets': 'KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD\n', ...appFiles(version) })
    app.set(key, project)
  } else {
    project.write(appFiles(version))
  }
  return project
}

/** A pull_request event file, as the runner writes GITHUB_EVENT_PATH. */
function eventFile(pr: number, action: string, sha: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-event-')), 'event.json')
  fs.writeFileSync(file, JSON.stringify({ action, number: pr, pull_request: { number: pr, state: action === 'closed' ? 'closed' : 'open', head: { sha } } }))
  return file
}

function start(project: AppProject, extra: Record<string, string>, env: Record<string, string> = {}): Promise<ActionRun> {
  const inputs = {
    'ssh-private-key': fs.readFileSync(harness.privateKey, 'utf8'),
    'ssh-known-hosts': fs.readFileSync(harness.knownHosts, 'utf8'),
    secrets: `KAMAL_REGISTRY_PASSWORD=${REGISTRY_PASSWORD}`,
    'github-token': 'ghs_e2e_preview',
    ...extra,
  }
  const githubEnv = { GITHUB_API_URL: github.url, GITHUB_REPOSITORY: 'acme/shop', GITHUB_SERVER_URL: 'https://github.example', GITHUB_RUN_ID: '77' }
  return startAction(project.dir, inputs, { DOCKER_HOST: harness.runner.dockerHost, ...githubEnv, ...env }).finished.then((run) => {
    runs.push(run)
    if (run.status !== 0) process.stdout.write(`action output (exit ${run.status}):\n${run.stdout.slice(-6000)}\n${run.stderr.slice(-2000)}\n`)
    return run
  })
}

async function served(address: string, host: string): Promise<string> {
  const answer = await get(address, host, '/version')
  return answer.status === 200 ? answer.body.trim() : `HTTP ${answer.status}`
}

const commentsOf = (pr: number) => github.comments.filter((comment) => comment.issue === pr && comment.body.includes(commentMarker('shop')))

/** Everything of one preview on a host: containers, proxy route, files, images. */
function leftovers(host: string, pr: number): string[] {
  const service = `shop-pr-${pr}`
  return [
    dockerOn(harness, host, ['ps', '--all', '--filter', `label=service=${service}`, '--format', '{{.Names}}']),
    dockerOn(harness, host, ['exec', 'kamal-proxy', 'kamal-proxy', 'list'])
      .split('\n')
      .filter((line) => line.includes(service))
      .join('\n'),
    onHost(host, `ls -d .kamal/apps/${service} .kamal/proxy/apps-config/${service} .kamal/lock-${service} .kamal/${service}-audit.log 2>/dev/null || true`),
    dockerOn(harness, host, ['images', '--filter', `label=service=${service}`, '--format', '{{.Repository}}:{{.Tag}}']),
    dockerOn(harness, host, ['images', '--format', '{{.Repository}}:{{.Tag}}'])
      .split('\n')
      .filter((tag) => tag.includes(`pr${pr}-`) || tag.endsWith(`latest-pr-${pr}`))
      .join('\n'),
  ].filter(Boolean)
}

beforeAll(async () => {
  github = await startFakeGitHub(31)
  harness = harnessUp(2)
}, 180_000)

afterAll(async () => {
  await github?.close()
  if (!process.env.KEEP_HARNESS) harnessDown()
}, 60_000)

describe('pull request previews on the hosts of the app', () => {
  test('the app v1 runs on both web hosts', async () => {
    const run = await start(projectFor('main', 'v1'), { command: 'deploy', version: 'v1' })
    expect(run.status).toBe(0)
    for (const address of WEB) expect(await served(address, HOST_HEADER)).toBe('v1')
  }, 240_000)

  test('two PRs previewed at once: each answers on its own host name with its own version, a comment and a pr-<N> deployment each; the app serves on with 0 failed requests', async () => {
    const one = projectFor('pr1', 'pr1-a')
    const oneSha = one.commit('PR 1, first push')
    const two = projectFor('pr2', 'pr2-a')
    two.commit('PR 2')
    const load = startLoad(WEB, HOST_HEADER, RATE_PER_HOST)
    const [first, second] = await Promise.all([
      // PR 1 from the event payload, PR 2 from the pull-request input.
      start(one, { command: 'preview', 'preview-domain': `*.${DOMAIN}`, version: 'pr1-a' }, { GITHUB_EVENT_PATH: eventFile(1, 'opened', oneSha) }),
      start(two, { command: 'preview', 'preview-domain': DOMAIN, 'pull-request': '2', version: 'pr2-a' }),
    ])
    const report = await load.stop()
    process.stdout.write(`two previews under load: ${report.requests} requests, ${report.failures} failed, statuses ${JSON.stringify(report.statuses)}, versions ${JSON.stringify(report.versions)}\n`)
    expect([first.status, second.status]).toEqual([0, 0])
    expect(report.failures).toBe(0)
    for (const address of WEB) expect(report.versions[address]).toEqual(['v1'])
    expect(first.outputs).toMatchObject({ url: 'http://pr-1.preview.test', version: 'pr1-a', roles: 'web', hosts: WEB.join(','), result: 'success' })
    expect(second.outputs).toMatchObject({ url: 'http://pr-2.preview.test', result: 'success' })

    for (const address of WEB) {
      expect(await served(address, 'pr-1.preview.test')).toBe('pr1-a')
      expect(await served(address, 'pr-2.preview.test')).toBe('pr2-a')
      expect(await served(address, HOST_HEADER)).toBe('v1')
    }
    for (const host of names()) {
      expect(dockerOn(harness, host, ['ps', '--filter', 'label=service=shop-pr-1', '--format', '{{.Names}} {{.Label "role"}}'])).toBe('shop-pr-1-web-pr1-a web')
      expect(onHost(host, 'stat -c %a .kamal/apps/shop-pr-1/env/roles/web.env')).toBe('600')
      expect(onHost(host, 'cat .kamal/shop-pr-1-audit.log')).toMatch(/\[web\] Booted app version pr1-a$/m)
      expect(onHost(host, 'test -e .kamal/lock-shop-pr-1 && echo held || echo free')).toBe('free')
      // What leftovers() looks for is there while the preview is: containers, route, app directory, image by label, tags.
      expect(leftovers(host, 1)).toHaveLength(5)
      expect(dockerOn(harness, host, ['exec', 'kamal-proxy', 'kamal-proxy', 'list'])).toContain('shop-pr-1-web')
      expect(dockerOn(harness, host, ['ps', '--filter', 'label=service=shop', '--format', '{{.Names}}']).split('\n').sort()).toEqual(host === names()[1] ? ['shop-web-v1', 'shop-workers-v1'] : ['shop-web-v1'])
    }

    for (const pr of [1, 2]) {
      const comments = commentsOf(pr)
      expect(comments).toHaveLength(1)
      expect(comments[0].body).toContain(`[http://pr-${pr}.preview.test](http://pr-${pr}.preview.test)`)
      expect(comments[0].body).toContain('✅ Deployed')
      expect(comments[0].body).toMatch(/\| Took \| \d+\.\d s \|/)
      expect(first.outputs['comment-id']).toBe(String(commentsOf(1)[0].id))
    }
    expect(commentsOf(1)[0].body).toContain(`[\`${oneSha.slice(0, 7)}\`](https://github.example/acme/shop/commit/${oneSha})`)
    const environments = github.calls.filter((call) => call.method === 'POST' && call.path === '/repos/acme/shop/deployments').map((call) => call.body.environment)
    expect(environments.sort()).toEqual(['pr-1', 'pr-2', 'production'])
    const urls = github.calls.filter((call) => call.body.state === 'success').map((call) => call.body.environment_url)
    expect(urls).toEqual(expect.arrayContaining(['http://pr-1.preview.test', 'http://pr-2.preview.test']))
  }, 300_000)

  test('a second push to PR 1 edits the same comment and replaces its version; the app and PR 2 are untouched', async () => {
    const [comment] = commentsOf(1)
    const one = projectFor('pr1', 'pr1-b')
    const sha = one.commit('PR 1, second push')
    const load = startLoad(WEB, HOST_HEADER, RATE_PER_HOST)
    const run = await start(one, { command: 'preview', 'preview-domain': DOMAIN, version: 'pr1-b' }, { GITHUB_EVENT_PATH: eventFile(1, 'synchronize', sha) })
    const report = await load.stop()
    expect(run.status).toBe(0)
    expect(report.failures).toBe(0)
    expect(commentsOf(1)).toEqual([{ id: comment.id, issue: 1, body: expect.stringContaining(`[\`${sha.slice(0, 7)}\`]`) }])
    const writes = github.calls.filter((call) => call.path.startsWith('/repos/acme/shop/issues/1/comments') && call.method === 'POST')
    expect(writes).toHaveLength(1)
    expect(github.calls.filter((call) => call.method === 'PATCH' && call.path === `/repos/acme/shop/issues/comments/${comment.id}`).length).toBeGreaterThanOrEqual(3)
    for (const address of WEB) {
      expect(await served(address, 'pr-1.preview.test')).toBe('pr1-b')
      expect(await served(address, 'pr-2.preview.test')).toBe('pr2-a')
      expect(await served(address, HOST_HEADER)).toBe('v1')
    }
  }, 240_000)

  test('a third preview over preview-limit is refused naming the input, the host and its previews; nothing of it is deployed', async () => {
    const three = projectFor('pr3', 'pr3-a')
    three.commit('PR 3')
    const run = await start(three, { command: 'preview', 'preview-domain': DOMAIN, 'pull-request': '3', version: 'pr3-a', 'preview-limit': '2' })
    expect(run.status).toBe(1)
    const [annotation] = errorAnnotations(run.stdout)
    expect(annotation.message).toContain("Input 'preview-limit': a preview of #3 would be preview 3 on")
    expect(annotation.message).toContain('(it has #1, #2)')
    for (const host of names()) expect(leftovers(host, 3)).toEqual([])
    expect(commentsOf(3)[0].body).toContain('⛔ Not deployed')
    const withRoles = await start(three, { command: 'preview', 'preview-domain': DOMAIN, 'pull-request': '3', roles: 'web' })
    expect(withRoles.status).toBe(1)
    expect(errorAnnotations(withRoles.stdout)[0].message).toBe("Input 'roles': a preview runs one role, chosen by the preview-role input, not roles (web). Drop roles, and set preview-role if the role is not web.")
    const badDomain = await start(three, { command: 'preview', 'preview-domain': 'https://preview.test', 'pull-request': '3' })
    expect(errorAnnotations(badDomain.stdout)[0].message).toContain("Input 'preview-domain': 'https://preview.test' is not a domain name")
  }, 120_000)

  test('preview sweep removes the preview whose PR is closed and keeps the open one', async () => {
    github.pulls.set(1, 'open')
    github.pulls.set(2, 'closed')
    const run = await start(projectFor('main', 'v1'), { command: 'preview sweep' })
    expect(run.status).toBe(0)
    expect(run.outputs.removed).toBe('2')
    for (const host of names()) expect(leftovers(host, 2)).toEqual([])
    for (const address of WEB) {
      expect(await served(address, 'pr-2.preview.test')).toBe('HTTP 404')
      expect(await served(address, 'pr-1.preview.test')).toBe('pr1-b')
      expect(await served(address, HOST_HEADER)).toBe('v1')
    }
    expect(commentsOf(2)).toHaveLength(1)
    expect(commentsOf(2)[0].body).toContain('🗑️ Removed')
    // a scheduled sweep knows no commit of the PR: the comment shows none rather than the wrong one
    expect(commentsOf(2)[0].body).not.toContain('| Commit |')
  }, 240_000)

  test('preview remove on the closed PR leaves nothing of it on any host; the app serves on under load, untouched', async () => {
    const before = names().map((host) => dockerOn(harness, host, ['ps', '--all', '--filter', 'label=service=shop', '--format', '{{.Names}} {{.Status}}']))
    // A preview whose container stopped on its own still has its route on kamal-proxy: that goes too.
    dockerOn(harness, names()[0], ['stop', 'shop-pr-1-web-pr1-b'])
    expect(dockerOn(harness, names()[0], ['exec', 'kamal-proxy', 'kamal-proxy', 'list'])).toContain('shop-pr-1-web')
    const one = projectFor('pr1', 'pr1-b')
    const load = startLoad(WEB, HOST_HEADER, RATE_PER_HOST)
    const run = await start(one, { command: 'preview remove', 'preview-domain': DOMAIN }, { GITHUB_EVENT_PATH: eventFile(1, 'closed', one.commit('closed')) })
    const report = await load.stop()
    expect(run.status).toBe(0)
    expect(report.failures).toBe(0)
    for (const host of names()) expect(leftovers(host, 1)).toEqual([])
    for (const address of WEB) {
      expect(await served(address, 'pr-1.preview.test')).toBe('HTTP 404')
      expect(await served(address, HOST_HEADER)).toBe('v1')
    }
    expect(names().map((host) => dockerOn(harness, host, ['ps', '--all', '--filter', 'label=service=shop', '--format', '{{.Names}} {{.Status}}']).replace(/Up .*/g, 'Up'))).toEqual(before.map((text) => text.replace(/Up .*/g, 'Up')))
    expect(commentsOf(1)).toHaveLength(1)
    expect(commentsOf(1)[0].body).toContain('🗑️ Removed')
    expect(commentsOf(1)[0].body).toContain('~~http://pr-1.preview.test~~')
    const inactive = github.calls.filter((call) => call.method === 'POST' && call.body.state === 'inactive')
    expect(inactive.map((call) => [call.path, call.body.environment])).toEqual([
      ['/repos/acme/shop/deployments/31/statuses', 'pr-2'],
      ['/repos/acme/shop/deployments/31/statuses', 'pr-1'],
    ])
    for (const host of names()) expect(dockerOn(harness, host, ['inspect', '--format', '{{.State.Status}}', 'kamal-proxy'])).toBe('running')
  }, 240_000)

  test('no secret value in any log, summary, output or PR comment of the preview runs', () => {
    expect(runs.length).toBeGreaterThanOrEqual(8)
    const visible = [...runs.map((run) => [run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n'), run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n')), ...github.comments.map((comment) => comment.body)]
    for (const secret of [REGISTRY_PASSWORD, 'ghs_e2e_preview']) for (const text of visible) expect(text).not.toContain(secret)
  })
})
