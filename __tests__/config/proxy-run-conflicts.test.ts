import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadRawConfig } from '../../src/config/load'
import { KamalConfig } from '../../src/config/model'
import { checkCrossFieldRules } from '../../src/config/rules'
import { validateConfig } from '../../src/config/validate'
import { ConfigError } from '../../src/errors'

let projectDir: string

beforeEach(() => {
  projectDir = mkdtempSync(join(tmpdir(), 'proxy-run-'))
  mkdirSync(join(projectDir, 'config'))
})

afterEach(() => rmSync(projectDir, { recursive: true, force: true }))

/** Loads, validates and runs the cross-field rules on a config file; returns the error, if any. */
function check(yaml: string): ConfigError | undefined {
  writeFileSync(join(projectDir, 'config/deploy.yml'), yaml)
  const source = loadRawConfig({ projectDir, configFile: 'config/deploy.yml', env: {} })
  expect(validateConfig(source.raw)).toBeNull()
  const config = new KamalConfig(source, { version: '1', projectDir })
  try {
    checkCrossFieldRules(config, projectDir)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  return undefined
}

const HEAD = `service: app
image: dhh/app
registry:
  username: user
  password: pw
builder:
  arch: amd64
`

// Kamal's test/fixtures/deploy_with_proxy_run_config{,_conflicts}.yml, trimmed to what matters.
const kamalFixture = (accessoryRun: string) => `${HEAD}servers:
  web:
    - "1.1.1.1"
    - "1.1.1.2"
  workers:
    - "1.1.1.3"
proxy:
  run:
    debug: true
accessories:
  mysql:
    image: mysql:5.7
    host: 1.1.1.2
    proxy:
      run:
${accessoryRun}
`

test("an accessory's proxy.run that differs from the roles' on its host is Kamal's conflict, at the accessory's run", () => {
  const error = check(kamalFixture('        debug: false'))
  expect(error?.message).toMatch(/^Conflicting proxy run configurations for host 1\.1\.1\.2: accessory mysql /)
  expect(error?.location).toEqual({ file: 'config/deploy.yml', line: 22, column: 7 })
})

test('the same run, with keys in another order, is no conflict', () => {
  const yaml = kamalFixture('        debug: true').replace('    debug: true\naccessories', '    debug: true\n    metrics_port: 9090\naccessories')
  expect(check(yaml.replace('        debug: true\n', '        metrics_port: 9090\n        debug: true\n'))).toBeUndefined()
})

test('an accessory on a host without other runs may bring its own', () => {
  expect(check(kamalFixture('        debug: false').replace('host: 1.1.1.2', 'host: 1.1.1.9'))).toBeUndefined()
})

test("two roles on one host whose merged runs differ: located at the second role's own run", () => {
  const yaml = `${HEAD}servers:
  web:
    hosts: ["1.1.1.1"]
  jobs:
    hosts: ["1.1.1.1"]
    proxy:
      host: jobs.example.com
      run:
        http_port: 8080
proxy:
  host: app.example.com
  run:
    http_port: 80
`
  const error = check(yaml)
  expect(error?.message).toContain('Conflicting proxy run configurations for host 1.1.1.1')
  expect(error?.location).toEqual({ file: 'config/deploy.yml', line: 15, column: 7 })
})

test('an empty run brings no configuration (Ruby present?)', () => {
  const yaml = kamalFixture('        {}').replace('        {}', '').replace('      run:\n', '      run: {}\n')
  expect(check(yaml)).toBeUndefined()
})
