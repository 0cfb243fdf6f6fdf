import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import { harnessDown } from './support/harness'

// `npm run demo` (scripts/demo.sh) as a user runs it: its exit status must say whether the deploys worked.
const ROOT = path.resolve(__dirname, '../..')
const HOSTS = ['10.213.0.11', '10.213.0.12']

interface DemoRun {
  status: number | null
  stdout: string
  stderr: string
}

function runDemo(env: Record<string, string> = {}): DemoRun {
  const result = spawnSync('bash', ['scripts/demo.sh'], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 240_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** The version each host serves, as the demo reports it at the end. */
function servedVersions(stdout: string): Record<string, string> {
  return Object.fromEntries(HOSTS.map((address) => [address, new RegExp(`^http://${address.replace(/\./g, '\\.')}/ \\(Host: demo\\.test\\) → version (.*)$`, 'm').exec(stdout)?.[1] ?? 'not reported']))
}

// Whether this run's docker (DOCKER_CONFIG included) has buildx decides how the action builds.
const buildx = spawnSync('docker', ['buildx', 'version'], { env: process.env }).status === 0

afterAll(() => {
  if (!process.env.KEEP_HARNESS) harnessDown()
}, 60_000)

test(`deploys v1 then v2 and exits 0 (${buildx ? 'with' : 'without'} docker buildx)`, () => {
  const run = runDemo()
  if (run.status !== 0) process.stdout.write(`demo output (exit ${run.status}):\n${run.stdout.slice(-8000)}\n${run.stderr.slice(-3000)}\n`)
  expect(run.status).toBe(0)
  expect(servedVersions(run.stdout)).toEqual({ [HOSTS[0]]: 'v2', [HOSTS[1]]: 'v2' })
  expect(run.stdout).toContain(buildx ? '$ docker buildx build --output=type=registry --platform linux/amd64 -t 10.213.0.1:5000/demo/web:v1' : 'docker buildx is not installed')
  expect(run.stderr).not.toContain('demo: FAILED')
})

test('exits non-zero when a deploy fails, and says which; the hosts keep serving the last good version', () => {
  const run = runDemo({ DEMO_UNHEALTHY_VERSION: 'v2' })
  expect(run.status).toBe(1)
  expect(run.stdout).toMatch(/^=== deploy of v2 failed \(exit [1-9]\d*\)$/m)
  expect(run.stderr).toContain('demo: FAILED — the deploy of v2 failed')
  expect(servedVersions(run.stdout)).toEqual({ [HOSTS[0]]: 'v1', [HOSTS[1]]: 'v1' })
})
