import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadRawConfig } from '../../src/config/load'
import { validateConfig } from '../../src/config/validate'
import { loadSourcedYaml } from '../../src/config/yaml-source'
import { ConfigError, type SourceLocation } from '../../src/errors'
import { rubyAvailable } from './ruby'

let projectDir: string

beforeEach(() => {
  projectDir = mkdtempSync(join(tmpdir(), 'yaml-merge-'))
  mkdirSync(join(projectDir, 'config'))
})

afterEach(() => rmSync(projectDir, { recursive: true, force: true }))

/** The first validation issue of a config file, located the way the action reports it. */
function firstIssueLocation(yaml: string): { message: string; location: SourceLocation } {
  writeFileSync(join(projectDir, 'config/deploy.yml'), yaml)
  const source = loadRawConfig({ projectDir, configFile: 'config/deploy.yml', env: {} })
  const issue = validateConfig(source.raw)
  if (!issue) throw new Error('expected a validation issue')
  return { message: issue.message, location: source.locate(issue.focus ?? issue.path, { key: issue.focusKey }) }
}

const BASE = `service: app
image: app
registry:
  username: u
  password: p
`

describe('values reached through <<: merges', () => {
  test('a wrong type inside an x- anchor merged at the top level is reported where it is written', () => {
    const yaml = `x-common: &common
  builder:
    arch: amd64
  servers:
    web:
      hosts:
        - [nested]
<<: *common
${BASE}`
    const { message, location } = firstIssueLocation(yaml)
    expect(message).toBe('should be a string or a hash')
    expect(location).toEqual({ file: 'config/deploy.yml', line: 7, column: 11 })
  })

  test('an unknown key in a merged anchor points at the key in the anchor', () => {
    const yaml = `${BASE}servers: [1.1.1.1]
x-builder: &builder
  arch: amd64
  arhc: arm64
builder:
  <<: *builder
  cache:
    type: gha
`
    const { message, location } = firstIssueLocation(yaml)
    expect(message).toBe('unknown key: arhc')
    expect(location).toEqual({ file: 'config/deploy.yml', line: 9, column: 3 })
  })

  test('with a list of sources the earlier one wins, also for the location', () => {
    const yaml = `${BASE}servers: [1.1.1.1]
x-a: &a
  builder:
    arch: {wrong: 1}
x-b: &b
  builder:
    arch: amd64
<<: [*a, *b]
`
    const { location } = firstIssueLocation(yaml)
    expect(location).toEqual({ file: 'config/deploy.yml', line: 9, column: 11 })
  })

  test('a key written after the merge overrides it and is located at its own line', () => {
    const yaml = `${BASE}servers: [1.1.1.1]
x-b: &b
  builder:
    arch: amd64
<<: *b
builder:
  arch: {wrong: 1}
`
    const { location } = firstIssueLocation(yaml)
    expect(location).toEqual({ file: 'config/deploy.yml', line: 12, column: 9 })
  })
})

describe('what Psych would load', () => {
  const cases = [
    'a: 1\n<<: {a: 2, b: 3}\nb: 4\n',
    '<<: [{a: 1, b: 1}, {b: 2, c: 2}]\nz: 0\n',
    'd:\n  <<: 5\n',
    'e:\n  <<: [{p: 1}, 3]\n',
    'x: &x {k: v}\ny:\n  <<: *x\n  k: w\n',
    'x: &x {k: v}\ny:\n  k: w\n  <<: *x\n',
    'x: &x [1, 2]\ny:\n  <<: *x\n',
    'a: y\nb: n\nc: yes\nd: off\ne: :sym\nf: 0o17\ng: 017\nh: 1_000\n',
  ]

  const withRuby = rubyAvailable() ? test.each(cases) : test.skip.each(cases)
  withRuby('loads %j exactly as Ruby\'s Psych does', (yaml) => {
    const psych = execFileSync('ruby', ['-ryaml', '-rjson', '-e', 'print JSON.generate(YAML.unsafe_load(STDIN.read))'], { input: yaml, encoding: 'utf8' })
    expect(JSON.stringify(loadSourcedYaml(yaml, 'f.yml').value)).toBe(psych)
  })
})

describe('alias abuse ends in a located error', () => {
  test('an alias inside its own anchor', () => {
    expect(() => loadSourcedYaml('a: 1\nb: &x\n  c: *x\n', 'f.yml')).toThrow(ConfigError)
    try {
      loadSourcedYaml('a: 1\nb: &x\n  c: *x\n', 'f.yml')
    } catch (error) {
      expect((error as ConfigError).location).toEqual({ file: 'f.yml', line: 3, column: 6 })
    }
  })

  test('nested anchors that multiply into too many values stop fast', () => {
    const levels = ['a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]']
    for (let i = 1; i < 7; i++) levels.push(`l${i}: &l${i} [${Array(10).fill(i === 1 ? '*a' : `*l${i - 1}`).join(', ')}]`)
    const started = Date.now()
    expect(() => loadSourcedYaml(levels.join('\n'), 'f.yml')).toThrow(/expand to more than 50000 values/)
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
