import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { planBuild, type RunnerFacts } from '../../src/commands/builder'
import { configFromYaml } from '../support/config'
import { startAction, type ActionRun } from '../support/run-action'
import { AppProject, appFiles } from './support/app-project'
import { dockerOn, get, harnessDown, harnessUp, type HarnessState } from './support/harness'

// The build exactly as planned, on a runner that has buildx and a remote builder: a recording
// `docker` shim first on PATH (this machine has no buildx plugin and cannot pull moby/buildkit)
// answers for builders and contexts and turns the buildx build into the same legacy build,
// run on the remote builder host over the docker CLI's own ssh:// helper. The argv it records
// must be planBuild's steps for this config, and that ssh must use the deploy key and the pinned
// host keys (root has no ~/.ssh here, so nothing else could authenticate).
const WEB = '10.213.0.11'
const BUILDER_HOST = '10.213.0.12'
const HOST_HEADER = 'shim.test'
const BUILD_TOKEN = 'e2e-build-token-7f31'

const CONFIG = `service: shim
image: e2e/shim
servers:
  web:
    hosts:
      - ${WEB}
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
  local: false
  remote: ssh://root@${BUILDER_HOST}
  cache:
    type: gha
    options: mode=max
  ssh: default
  provenance: mode=max
  sbom: true
  context: web
  dockerfile: web/Dockerfile
  args:
    GREETING: hello
  secrets:
    - BUILD_TOKEN
deploy_timeout: 10
drain_timeout: 2
`

const CACHE_ENV = { ACTIONS_RUNTIME_TOKEN: 'e2e-runtime-token', ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/results/', ACTIONS_CACHE_URL: 'http://127.0.0.1:9/cache/', ACTIONS_CACHE_SERVICE_V2: 'true' }

interface ShimEntry {
  argv: string[]
  env: string[]
  viaShell: boolean
  code: number
  secretsInEnv?: string[]
  remoteHost?: string
  ssh?: { path: string; text: string; files: Record<string, string> }
}

let harness: HarnessState
let project: AppProject
let scratch: string

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

beforeAll(() => {
  harness = harnessUp(2)
  const files = Object.fromEntries(Object.entries(appFiles('v1')).map(([file, content]) => [`web/${file}`, content]))
  project = new AppProject({ 'config/deploy.yml': CONFIG, ...files })
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'builder-shim-'))
}, 180_000)

afterAll(() => {
  if (!process.env.KEEP_HARNESS) harnessDown()
  fs.rmSync(scratch, { recursive: true, force: true })
}, 60_000)

test('remote builder, gha cache, ssh, provenance, sbom, context: the recorded docker argv is planBuild\'s, over ssh with the deploy key and pinned host keys', async () => {
  const shimDir = path.join(scratch, 'bin')
  const stateDir = path.join(scratch, 'state')
  const runnerTemp = path.join(scratch, 'runner-temp')
  for (const dir of [shimDir, stateDir, runnerTemp]) fs.mkdirSync(dir, { recursive: true })
  fs.copyFileSync(path.join(__dirname, 'support/docker-shim.js'), path.join(shimDir, 'docker'))
  fs.chmodSync(path.join(shimDir, 'docker'), 0o755)
  const log = path.join(scratch, 'docker.log')
  fs.writeFileSync(log, '')
  const homeSsh = path.join(os.homedir(), '.ssh')
  const homeSshBefore = fs.existsSync(homeSsh) ? fs.readdirSync(homeSsh).sort() : null

  const privateKey = fs.readFileSync(harness.privateKey, 'utf8')
  const knownHosts = fs.readFileSync(harness.knownHosts, 'utf8')
  const env = {
    PATH: `${shimDir}:${process.env.PATH}`,
    RUNNER_TEMP: runnerTemp,
    DOCKER_HOST: harness.runner.dockerHost,
    DOCKER_CONFIG: path.join(scratch, 'docker-config'),
    SHIM_LOG: log,
    SHIM_STATE: stateDir,
    SHIM_REAL_DOCKER: execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim(),
    ...CACHE_ENV,
  }
  const started = Date.now()
  const run: ActionRun = await startAction(project.dir, {
    command: 'deploy',
    version: 'v1',
    'ssh-private-key': privateKey,
    'ssh-known-hosts': knownHosts,
    secrets: `KAMAL_REGISTRY_PASSWORD=anything\nBUILD_TOKEN=${BUILD_TOKEN}`,
  }, env).finished
  const seconds = (Date.now() - started) / 1000
  if (run.status !== 0) process.stdout.write(`action output (exit ${run.status}):\n${run.stdout.slice(-6000)}\n${run.stderr.slice(-2000)}\n`)
  expect(run.status).toBe(0)

  // What the plan says, computed from src with this run's facts.
  const config = configFromYaml(CONFIG, { version: 'v1' })
  const facts: RunnerFacts = {
    docker: true,
    buildx: true,
    pack: false,
    dockerArch: 'amd64',
    projectDir: fs.realpathSync(project.dir),
    tempDir: runnerTemp,
    dockerfilePresent: true,
    env: { ...env, GITHUB_WORKSPACE: project.dir },
    remoteSsh: { binDir: path.join(runnerTemp, 'kamal-builder-ssh') },
  }
  const steps = planBuild(config, facts)
  const entries: ShimEntry[] = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))
  const direct = entries.filter((entry) => !entry.viaShell)
  // (`docker --version` only when neither of these answers)
  const probes = [['docker', 'buildx', 'version'], ['docker', 'info', '--format', '{{.Architecture}}']]
  // The read-only probes run side by side: in any order, before the build.
  expect(direct.slice(0, probes.length).map((entry) => entry.argv).sort()).toEqual([...probes].sort())
  expect(direct.slice(probes.length).map((entry) => entry.argv)).toEqual(steps.filter((step) => step.argv[0] === 'docker').map((step) => step.argv))
  // each skipIf is Kamal's inspect pipeline run by sh; the builder is missing, so it stops at `buildx inspect`
  const name = config.builder.builderName('amd64')
  expect(entries.filter((entry) => entry.viaShell).map((entry) => entry.argv)).toEqual(steps.filter((step) => step.skipIf).map(() => ['docker', 'buildx', 'inspect', name]))
  expect(steps.map((step) => step.purpose)).toEqual(['remove the builder context', 'remove the builder', 'create the builder context', 'create the builder', 'build and push'])

  const build = direct[direct.length - 1]
  expect(build.argv).toEqual(expect.arrayContaining(['--cache-to', 'type=gha,mode=max', '--cache-from', 'type=gha', '--ssh', 'default', '--provenance', 'mode=max', '--sbom', 'true', '--file', 'web/Dockerfile', 'web']))
  expect(build.code).toBe(0)
  // the runner's cache service reaches the build and nothing else; remote builders push themselves
  for (const variable of Object.keys(CACHE_ENV)) expect(build.env).toContain(variable)
  expect(build.env).toContain('BUILDKIT_NO_CLIENT_TOKEN')
  for (const entry of entries.slice(0, -1)) expect(entry.env).not.toContain('ACTIONS_RUNTIME_TOKEN')
  expect(build.secretsInEnv).toEqual(['BUILD_TOKEN'])
  expect(fs.readFileSync(log, 'utf8')).not.toContain(BUILD_TOKEN)
  // (the one place it may appear is the runner's own ::add-mask:: command)
  expect(run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n')).not.toContain(BUILD_TOKEN)
  expect(run.stdout).toContain('--build-arg GREETING=[REDACTED]')

  // the build ran on the remote builder host, through the ssh wrapper: deploy key + pinned known_hosts
  expect(build.remoteHost).toBe(`ssh://root@${BUILDER_HOST}`)
  const wrapperDir = path.join(runnerTemp, 'kamal-builder-ssh')
  expect(build.ssh?.path).toBe(path.join(wrapperDir, 'ssh'))
  expect(build.ssh?.text).toContain(`-i ${path.join(wrapperDir, 'id-0')}`)
  expect(build.ssh?.text).toContain(`UserKnownHostsFile\\=${path.join(wrapperDir, 'known_hosts')}`)
  expect(build.ssh?.text).toContain('StrictHostKeyChecking\\=yes')
  expect(build.ssh?.files['id-0']).toBe(sha256(privateKey.endsWith('\n') ? privateKey : `${privateKey}\n`))
  expect(build.ssh?.files.known_hosts).toBe(sha256(`${knownHosts.trimEnd()}\n`))
  const builderHost = harness.hosts.find((host) => host.address === BUILDER_HOST)?.name ?? ''
  expect(dockerOn(harness, builderHost, ['image', 'inspect', '--format', '{{index .Config.Labels "service"}}', '10.213.0.1:5000/e2e/shim:v1'])).toBe('shim')
  // the key is gone after the build; the user's ~/.ssh was not touched
  expect(fs.existsSync(wrapperDir)).toBe(false)
  expect(fs.existsSync(homeSsh) ? fs.readdirSync(homeSsh).sort() : null).toEqual(homeSshBefore)

  const served = await get(WEB, HOST_HEADER, '/version')
  expect(served).toEqual({ status: 200, body: 'v1\n' })
  process.stdout.write(`builder-shim deploy: ${seconds.toFixed(1)} s, ${entries.length} docker invocations recorded, ${steps.length} planned build steps\n`)

  // v2: the builder and its context exist now, so Kamal's inspect pipeline passes and only the build runs
  project.write(Object.fromEntries(Object.entries(appFiles('v2')).map(([file, content]) => [`web/${file}`, content])))
  project.commit('v2')
  fs.writeFileSync(log, '')
  const second = await startAction(project.dir, {
    command: 'deploy',
    version: 'v2',
    'ssh-private-key': privateKey,
    'ssh-known-hosts': knownHosts,
    secrets: `KAMAL_REGISTRY_PASSWORD=anything\nBUILD_TOKEN=${BUILD_TOKEN}`,
  }, env).finished
  if (second.status !== 0) process.stdout.write(`action output (exit ${second.status}):\n${second.stdout.slice(-6000)}\n${second.stderr.slice(-2000)}\n`)
  expect(second.status).toBe(0)
  const again: ShimEntry[] = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))
  const v2Steps = planBuild(configFromYaml(CONFIG, { version: 'v2' }), facts)
  const againDirect = again.filter((entry) => !entry.viaShell).map((entry) => entry.argv)
  expect(againDirect.slice(0, probes.length).sort()).toEqual([...probes].sort())
  expect(againDirect.slice(probes.length)).toEqual([v2Steps[v2Steps.length - 1].argv])
  const inspectPipeline = [['docker', 'buildx', 'inspect', name], ['docker', 'context', 'inspect', `${name}-context`, '--format', '{{.Endpoints.docker.Host}}']]
  expect(again.filter((entry) => entry.viaShell).map((entry) => entry.argv)).toEqual(v2Steps.filter((step) => step.skipIf).flatMap(() => inspectPipeline))
  expect(second.stdout).toContain('(skipped: docker buildx inspect')
  expect(await get(WEB, HOST_HEADER, '/version')).toEqual({ status: 200, body: 'v2\n' })
})
