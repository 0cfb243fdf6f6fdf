import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { outputSettings } from '../src/config/output'
import type { ConfigError } from '../src/errors'
import { OutputFile, kamalCommandOf, outputFileEnding, outputFileName, startOutputFile, writesOutputFile } from '../src/report/output-file'
import { configFromYaml } from './support/config'

const BASE = 'service: app\nimage: dhh/app\nregistry: { username: dhh, password: secret }\nbuilder: { arch: amd64 }\nservers: [1.1.1.1]\n'
const at = new Date(2024, 0, 2, 3, 4, 5)

describe("output.file: Kamal's FileLogger naming and ending", () => {
  test.each([
    [{ command: 'deploy', startedAt: at }, '2024-01-02T03-04-05_deploy.log'],
    [{ command: 'deploy', destination: 'staging', startedAt: at }, '2024-01-02T03-04-05_staging_deploy.log'],
    [{ command: 'accessory', subcommand: 'boot', startedAt: at }, '2024-01-02T03-04-05_accessory_boot.log'],
    [{ ...kamalCommandOf('prune'), startedAt: at }, '2024-01-02T03-04-05_prune_all.log'],
  ])('%j → %s', (record, name) => {
    expect(outputFileName(record)).toBe(name)
  })

  test('ending lines, runtime to one decimal', () => {
    expect(outputFileEnding(12.34)).toBe('# Completed in 12.3s')
    expect(outputFileEnding(5)).toBe('# Completed in 5.0s')
    expect(outputFileEnding(0.96, { name: 'HookError', message: 'Hook `pre-deploy` failed' })).toBe('# FAILED: HookError: Hook `pre-deploy` failed (1.0s)')
  })

  test('plan and lock write no file (Kamal logs only commands run in modify)', () => {
    expect(['deploy', 'setup', 'app', 'accessory', 'prune', 'plan', 'lock'].filter(writesOutputFile)).toEqual(['deploy', 'setup', 'app', 'accessory', 'prune'])
  })
})

describe('OutputFile: the run log on the runner', () => {
  let dir: string
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'output-file-'))))
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  test('tees stdout without workflow commands, masks secrets, ends with the Completed line', () => {
    let now = 1_000
    const written: string[] = []
    const realWrite = process.stdout.write
    process.stdout.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stdout.write
    let file: string
    try {
      const output = new OutputFile(path.join(dir, 'logs'), { command: 'deploy', destination: 'staging', startedAt: at }, ['hunter2', '-----BEGIN KEY-----\nkeyline\n-----END KEY-----'], () => now)
      file = output.file
      process.stdout.write('::add-mask::hunter2\n')
      process.stdout.write('Booting app on 1.1.1.1 with password hunter2\n')
      process.stdout.write('::group::1.1.1.1 · boot\nkey is keyline\n')
      process.stdout.write('partial')
      now = 3_500
      output.finish()
    } finally {
      process.stdout.write = realWrite
    }
    expect(path.basename(file)).toBe('2024-01-02T03-04-05_staging_deploy.log')
    expect(fs.readFileSync(file, 'utf8')).toBe('Booting app on 1.1.1.1 with password ***\nkey is ***\npartial\n# Completed in 2.5s\n')
    expect(written[written.length - 1]).toBe(`Logs written to ${file}\n`)
    expect(written.join('')).toContain('hunter2') // the console itself is untouched: the runner masks it
  })

  test('a failed run ends with the FAILED line', () => {
    const realWrite = process.stdout.write
    process.stdout.write = (() => true) as typeof process.stdout.write
    let file: string
    try {
      const output = new OutputFile(dir, { command: 'deploy', startedAt: at }, [], () => 0)
      file = output.file
      output.finish(Object.assign(new Error('Deploy lock found'), { name: 'LockError' }))
    } finally {
      process.stdout.write = realWrite
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('# FAILED: LockError: Deploy lock found (0.0s)\n')
  })

  test('startOutputFile: only with output.file.path, relative to the project directory', () => {
    expect(startOutputFile(configFromYaml(BASE), { command: 'deploy', projectDir: dir }, [])).toBeUndefined()
    const config = configFromYaml(`${BASE}output:\n  file:\n    path: log/kamal\n`)
    expect(startOutputFile(config, { command: 'plan', projectDir: dir }, [])).toBeUndefined()
    const realWrite = process.stdout.write
    process.stdout.write = (() => true) as typeof process.stdout.write
    try {
      const output = startOutputFile(config, { command: 'accessory', subcommand: 'boot', projectDir: dir }, [])
      expect(path.dirname(output?.file ?? '')).toBe(path.join(dir, 'log/kamal'))
      expect(path.basename(output?.file ?? '')).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d_accessory_boot\.log$/)
      output?.finish()
    } finally {
      process.stdout.write = realWrite
    }
  })
})

describe('output settings', () => {
  const failure = (yaml: string): ConfigError => {
    try {
      outputSettings(configFromYaml(yaml))
    } catch (error) {
      return error as ConfigError
    }
    throw new Error('expected a refusal')
  }

  test('output.otel is refused at its line with what to do instead', () => {
    const error = failure(`${BASE}output:\n  otel:\n    endpoint: http://otel-gateway:4318\n`)
    expect(error.message).toMatch(/^output\.otel is not supported by this action: it does not ship logs over OTLP\. Remove output\.otel/)
    expect(error.location).toMatchObject({ file: 'config/deploy.yml', line: 7 })
  })

  test("output.file without a path: Kamal's 'file path is required', at the key", () => {
    const error = failure(`${BASE}output:\n  file: {}\n`)
    expect(error.message).toMatch(/^output\.file: file path is required\./)
    expect(error.location).toMatchObject({ line: 7 })
  })

  test('output.file.path is read', () => {
    expect(outputSettings(configFromYaml(`${BASE}output:\n  file:\n    path: /var/log/kamal/\n`))).toEqual({ filePath: '/var/log/kamal/' })
  })
})
