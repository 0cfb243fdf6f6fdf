import YAML from 'yaml'
import { checkRequiredKeys, validateConfig, validateConfigAll } from '../../src/config/validate'

function parse(text: string): unknown {
  return YAML.parse(text, { version: '1.1', merge: true })
}

const VALID = `
service: app
image: app
builder:
  arch: amd64
registry:
  username: user
  password: secret
servers:
  - 1.1.1.1
`

describe('where an issue points', () => {
  test('an unknown key points at the key itself and suggests the likely spelling', () => {
    const issue = validateConfig({ ...(parse(VALID) as object), builder: { arhc: 'amd64', arch: 'amd64' } })
    expect(issue).toMatchObject({ path: ['builder'], message: 'unknown key: arhc', focus: ['builder', 'arhc'], focusKey: true })
    expect(issue?.hint).toContain('Did you mean `arch`?')
  })

  test('the root hint mentions x- extension keys', () => {
    const issue = validateConfig({ ...(parse(VALID) as object), servres: ['a'] })
    expect(issue?.focus).toEqual(['servres'])
    expect(issue?.hint).toContain('`servers`')
    expect(issue?.hint).toContain('x-')
  })

  test('a type error points at the value and carries no separate focus', () => {
    const issue = validateConfig({ ...(parse(VALID) as object), servers: { web: { hosts: ['a', ['b']] } } })
    expect(issue).toMatchObject({ path: ['servers', 'web', 'hosts', 1], message: 'should be a string or a hash' })
    expect(issue?.focus).toBeUndefined()
  })

  test('a missing required key points at its parent key', () => {
    const issue = validateConfig({ ...(parse(VALID) as object), registry: { username: 'u' } })
    expect(issue).toMatchObject({ path: ['registry', 'password'], message: 'is required', focus: ['registry'], focusKey: true })
  })

  test('a blank required value points at the value', () => {
    const issue = validateConfig({ ...(parse(VALID) as object), registry: { username: 'u', password: '' } })
    expect(issue).toMatchObject({ path: ['registry', 'password'], message: 'is required' })
    expect(issue?.focus).toBeUndefined()
  })

  test('a missing section falls back to the whole file', () => {
    const raw = parse(VALID) as Record<string, unknown>
    delete raw.builder
    expect(validateConfig(raw)).toMatchObject({ path: ['builder'], message: 'Builder arch not set', focus: [] })
  })

  test('a non-mapping file is one issue at the root', () => {
    expect(validateConfig(['a'])).toMatchObject({ path: [], message: 'should be a hash' })
  })

  test('an unquoted restart: no gets a hint about quoting', () => {
    const issue = validateConfig({ ...(parse(VALID) as object), servers: parse('web:\n  options:\n    restart: no') })
    expect(issue?.hint).toContain('"no"')
  })

  test('an x- key below the root is explained, not "corrected"', () => {
    const issue = validateConfig({ ...(parse(VALID) as object), builder: { arch: 'amd64', 'x-cache': 1 } })
    expect(issue?.message).toBe('unknown key: x-cache')
    expect(issue?.hint).toContain('only allowed at the top level')
  })

  test('samples that YAML would read as numbers are quoted in hints', () => {
    const issue = validateConfig({
      ...(parse(VALID) as object),
      accessories: { db: { host: 'a', files: [{ local: 'a', remote: '/a', mode: ['x'] }] } },
    })
    expect(issue?.path).toEqual(['accessories', 'db', 'files', 0, 'mode'])
    expect(issue?.hint).toContain('`mode: "0644"`')
  })

  test('type hints quote the documented sample', () => {
    const issue = validateConfig({ ...(parse(VALID) as object), drain_timeout: '30s' })
    expect(issue?.message).toBe('should be an integer')
    expect(issue?.hint).toContain('drain_timeout: 30')
  })
})

describe('validateConfigAll', () => {
  const raw = {
    ...(parse(VALID) as object),
    foo: 1,
    servers: { web: { hosts: ['a'], labels: { role: 'x' } } },
    builder: { arch: 'amd64', cache: { type: 's3' } },
    env: { A: [] },
  }

  test('lists every issue in Kamal order, starting with the one validateConfig reports', () => {
    const all = validateConfigAll(raw).map((issue) => `${issue.path.join('/')}: ${issue.message}`)
    expect(all).toEqual([
      ': unknown key: foo',
      'servers/web/labels/role: invalid label. destination, role, and service are reserved labels',
      'builder: Invalid cache type: s3',
      'env/A: should be a string',
    ])
    expect(validateConfigAll(raw)[0]).toEqual(validateConfig(raw))
  })

  test('every issue has a hint sentence', () => {
    for (const issue of validateConfigAll(raw)) expect(issue.hint).toMatch(/\S.*\.$/)
  })

  test('does not repeat an issue found by two sections', () => {
    const issues = validateConfigAll({ ...(parse(VALID) as object), accessories: { db: { host: 'a', registry: 'ghcr.io' } } })
    expect(issues.map((issue) => issue.message)).toEqual(['should be a hash'])
  })
})

describe('checkRequiredKeys', () => {
  const base = parse(VALID) as Record<string, unknown>
  const without = (key: string, extra: Record<string, unknown> = {}) => {
    const copy: Record<string, unknown> = { ...base, ...extra }
    delete copy[key]
    return copy
  }

  test.each([
    ['service', without('service'), 'Missing required configuration for service', []],
    ['registry', without('registry'), 'Missing required configuration for registry', []],
    ['registry (empty)', { ...base, registry: {} }, 'Missing required configuration for registry', ['registry']],
    ['image', without('image'), 'Missing required configuration for image', []],
    ['servers', without('servers'), 'No servers or accessories specified', []],
  ])('%s', (_key, raw, message, focus) => {
    const issue = checkRequiredKeys(raw)
    expect(issue).toMatchObject({ path: [], message, focus })
    expect(issue?.hint).not.toBe('')
  })

  test('service is checked before image', () => {
    expect(checkRequiredKeys({ registry: { server: 'x' } })?.message).toBe('Missing required configuration for service')
  })

  test('a blank value is missing, and the issue points at it', () => {
    expect(checkRequiredKeys({ ...base, service: '  ' })).toMatchObject({
      message: 'Missing required configuration for service',
      focus: ['service'],
    })
  })

  test('a local registry lets the image default to the service', () => {
    expect(checkRequiredKeys(without('image', { registry: { server: 'localhost:5000' } }))).toBeNull()
  })

  test('accessories stand in for servers', () => {
    expect(checkRequiredKeys(without('servers', { accessories: { db: { host: 'a', image: 'mysql' } } }))).toBeNull()
  })

  test('an empty servers list is left to the role checks', () => {
    expect(checkRequiredKeys({ ...base, servers: [] })).toBeNull()
  })

  test('a complete config passes', () => {
    expect(checkRequiredKeys(base)).toBeNull()
  })
})
