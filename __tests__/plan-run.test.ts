import * as path from 'node:path'
import { errorAnnotations, runAction } from './support/run-action'

const DEMO = path.resolve(__dirname, '../examples/demo')
const SECRETS_INPUT = 'KAMAL_REGISTRY_PASSWORD=plan-test-registry-password'

describe('command: plan on the example app (two roles, host tags, destination, secrets)', () => {
  const staging = runAction(DEMO, { command: 'plan', destination: 'staging', version: 'v42', secrets: SECRETS_INPUT }, {}, 'source')

  test('exits 0 with no error annotation', () => {
    expect(errorAnnotations(staging.stdout)).toEqual([])
    expect(staging.status).toBe(0)
  })

  test('prints the plan grouped by host and phase', () => {
    const groups = staging.stdout.split('\n').filter((line) => line.startsWith('::group::')).map((line) => line.slice('::group::'.length))
    expect(groups[0]).toBe('local · Build and push')
    expect(groups).toContain('10.213.0.11 · Acquire deploy lock')
    expect(groups).toContain('10.213.0.12 · Boot app')
    expect(groups.indexOf('10.213.0.11 · Pull image')).toBeLessThan(groups.indexOf('10.213.0.11 · Boot app'))
    expect(groups.filter((group) => group.endsWith('Release deploy lock'))).toEqual(['10.213.0.11 · Release deploy lock'])
  })

  test('uses the destination: names, latest tag, proxy host and the destination env', () => {
    expect(staging.stdout).toContain('--name demo-web-staging-v42')
    expect(staging.stdout).toContain('--name demo-workers-staging-v42')
    expect(staging.stdout).toContain('-t 10.213.0.1:5000/demo/web:latest-staging')
    expect(staging.stdout).toContain('--host="staging.demo.test"')
    expect(staging.stdout).toContain('--env GREETING="hello from staging"')
    expect(staging.stdout).toContain('mkdir .kamal/lock-demo-staging')
  })

  test('applies host tags: only the canary host gets the canary env', () => {
    const runs = staging.stdout.split('\n').filter((line) => line.includes('docker run --detach') && line.includes('demo-web-staging-v42'))
    expect(runs).toHaveLength(2)
    expect(runs.find((line) => line.includes('KAMAL_HOST="10.213.0.12"'))).toContain('--env FEATURE_FLAGS="canary"')
    expect(runs.find((line) => line.includes('KAMAL_HOST="10.213.0.11"'))).not.toContain('FEATURE_FLAGS')
  })

  test('names env-file secrets by key only and uploads them 0600', () => {
    expect(staging.stdout).toContain('[web] mkdir -p .kamal/apps/demo-staging/env/roles && upload .kamal/apps/demo-staging/env/roles/web.env (mode 0600; DATABASE_PASSWORD, API_TOKEN)')
  })

  test('writes the plan to the job summary', () => {
    expect(staging.summary).toContain('### deploy plan for `demo` → `staging`')
    expect(staging.summary).toMatch(/\| 10\.213\.0\.11 \(primary\) \| web \|/)
    expect(staging.summary).toMatch(/\| 10\.213\.0\.12 \| web, workers \|/)
    expect(staging.summary).toContain('<details><summary>10.213.0.12</summary>')
  })

  test('sets outputs', () => {
    expect(staging.outputs).toMatchObject({
      version: 'v42',
      image: '10.213.0.1:5000/demo/web:v42',
      hosts: '10.213.0.11,10.213.0.12',
      roles: 'web,workers',
      result: 'planned',
    })
  })

  test('touches no host', () => {
    // tsx (running src/) talks to itself over a local socket; a host connection has a host or port.
    expect(staging.sideEffects.filter((effect) => effect.kind === 'connect' && (effect.host !== undefined || effect.port !== undefined))).toEqual([])
  })

  test('roles and hosts inputs narrow the plan', () => {
    const workersOnly = runAction(DEMO, { command: 'plan', destination: 'staging', version: 'v42', secrets: SECRETS_INPUT, roles: 'workers' }, {}, 'source')
    expect(workersOnly.status).toBe(0)
    expect(workersOnly.outputs.roles).toBe('workers')
    expect(workersOnly.outputs.hosts).toBe('10.213.0.12')
    expect(workersOnly.stdout).not.toContain('demo-web-staging-v42')
  })

  test('a bad input names the input and the expected form', () => {
    const bad = runAction(DEMO, { command: 'destroy' }, {}, 'source')
    expect(bad.status).toBe(1)
    const annotations = errorAnnotations(bad.stdout)
    expect(annotations).toHaveLength(1)
    expect(annotations[0].message).toContain("Input 'command': 'destroy' is not a command of this action, and the config defines no aliases. Use one of: deploy, redeploy, rollback, setup, plan, prune, remove, audit, build push, lock release|status|acquire, app exec|boot|start|stop|remove|logs|details|containers|version|maintenance|live, proxy boot|reboot, server exec, accessory boot|reboot|remove|logs|details|exec <name|all>.")
  })
})
