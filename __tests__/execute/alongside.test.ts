import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { HostPool } from '../../src/deploy/hosts'
import { runnerSteps } from '../../src/make-plan'
import { Progress } from '../../src/deploy/progress'
import { executePlan } from '../../src/execute/executor'
import { selectTargets } from '../../src/plan/targets'
import { RUNNER, type LocalStep, type Plan, type Stage } from '../../src/plan/steps'
import { Secrets } from '../../src/secrets/load'
import { configFromYaml } from '../support/config'

// Real processes on the runner: a step marked alongsideNext and the one after it run side by side.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'alongside-'))
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

const config = configFromYaml('service: app\nimage: a/b\nregistry: { username: u, password: p }\nservers: [10.0.0.1]\nbuilder: { arch: amd64 }\n')
const shell = (script: string, extra: Partial<LocalStep> = {}): LocalStep => ({ kind: 'runner', purpose: 'test step', argv: ['sh', '-c', script], display: script, cwd: scratch, changes: true, ...extra }) as LocalStep

async function runOnRunner(steps: LocalStep[], stages: Stage[] = [{ phase: 'build', title: 'Build and push', lanes: [{ place: RUNNER, units: [{ steps }] }] }]) {
  const plan: Plan = { command: 'build', service: 'app', version: '999', image: 'a/b', primaryHost: '10.0.0.1', hosts: [], roles: [], stages }
  return executePlan(plan, {
    config,
    targets: selectTargets(config, { roles: [], hosts: [] }),
    secrets: new Secrets({ provided: {}, fromFiles: new Map(), env: {}, filesRead: [], candidates: [], fetchedValues: new Set() }),
    pool: new HostPool({ user: 'root', port: 22, privateKeys: [] }),
    progress: new Progress(),
    projectDir: scratch,
    performer: 'tester',
    lockedBy: 'tester',
    env: process.env,
    redact: (text) => text,
  })
}

test('the next step starts without waiting; the step after waits for both', async () => {
  const log = path.join(scratch, 'order')
  const result = await runOnRunner([
    shell(`sleep 0.4; echo slow >> ${log}`, { alongsideNext: true }),
    shell(`echo quick >> ${log}`),
    shell(`echo after >> ${log}`),
  ])
  expect(result.failure).toBeUndefined()
  expect(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)).toEqual(['quick', 'slow', 'after'])
})

test("the earlier step's failure fails the unit once the other is done, and nothing after runs", async () => {
  const log = path.join(scratch, 'failing')
  const result = await runOnRunner([
    shell('exit 3', { alongsideNext: true, purpose: 'the login' }),
    shell(`sleep 0.3; echo clone >> ${log}`),
    shell(`echo build >> ${log}`),
  ])
  expect(String(result.failure)).toMatch(/the login failed on the runner with exit status 3/)
  expect(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)).toEqual(['clone'])
})

test('the plan logs in to the registry alongside the build clone, and builds after both', () => {
  const facts = { docker: true, buildx: true, pack: false, dockerArch: 'amd64', projectDir: scratch, git: { root: scratch, revision: 'a'.repeat(40) }, tempDir: scratch, dockerfilePresent: true, env: {} }
  const steps = runnerSteps(config, facts, { username: 'u', shown: 'u' })
  const kinds = steps.map((step) => (step.kind === 'runner' ? step.argv.slice(0, 3).join(' ') : step.kind))
  const login = kinds.findIndex((kind) => kind.startsWith('docker login'))
  expect(kinds[login + 1]).toBe('clone')
  expect(steps[login].alongsideNext).toBe(true)
  expect(steps.filter((step) => step.alongsideNext)).toHaveLength(1)
  expect(kinds[login + 2]).toMatch(/^docker buildx/)
  // Without a git checkout there is no clone, and the login goes first on its own.
  expect(runnerSteps(config, { ...facts, git: undefined }, { username: 'u', shown: 'u' }).some((step) => step.alongsideNext)).toBe(false)
})

test('a failure elsewhere stops a runner process still going; the run reports that failure, not the stop', async () => {
  const marker = path.join(scratch, 'built')
  // The build is planned first, so the stop's error would be the earliest stage's if it counted.
  const build: Stage = { phase: 'build', title: 'Build and push', sync: 'place', id: 'build', lanes: [{ place: RUNNER, units: [{ steps: [shell(`sleep 30 & wait; echo built > ${marker}`, { purpose: 'build and push' })] }] }] }
  const lock: Stage = { phase: 'lock', title: 'Acquire deploy lock', sync: 'place', placeAfter: [], lanes: [{ place: RUNNER, units: [{ steps: [shell('sleep 0.3; exit 3', { purpose: 'the lock' })] }] }] }
  const started = Date.now()
  const result = await runOnRunner([], [build, lock])
  expect(Date.now() - started).toBeLessThan(10_000)
  expect(String(result.failure)).toMatch(/the lock failed on the runner with exit status 3/)
  const stopped = result.record.entries.find((entry) => entry.stage === 'Build and push')
  expect(stopped?.outcome).toBe('stopped')
  expect(fs.existsSync(marker)).toBe(false)
})
