import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { ConfigError, InputError } from '../../src/errors'
import { loadSecrets, LoadSecretsOptions, parseSecretsInput, Secrets } from '../../src/secrets/load'
import { captureStdout, maskedValues } from './capture-stdout'

const fixtures = path.join(__dirname, '..', 'fixtures', 'secrets')
const env = { PATH: process.env.PATH }

function load(options: Partial<LoadSecretsOptions> & { projectDir: string }): Secrets {
  let secrets: Secrets | undefined
  captureStdout(() => {
    secrets = loadSecrets({ provided: {}, env, ...options })
  })
  return secrets as Secrets
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kamal-project-'))
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    writeFileSync(path.join(dir, name), text)
  }
  return dir
}

function thrown(action: () => unknown): ConfigError {
  try {
    action()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('the app fixture: kamal secrets fetch/extract through $(…)', () => {
  const projectDir = path.join(fixtures, 'app')

  test('every value comes out as Kamal produces it', () => {
    const secrets = load({ projectDir })
    expect(secrets.get('INTERPOLATED_SECRET1')).toBe('1TERCES_DETALOPRETNI')
    expect(secrets.get('INTERPOLATED_SECRET2')).toBe('2TERCES_DETALOPRETNI')
    expect(secrets.get('INTERPOLATED_SECRET3')).toBe('文中_DETALOPRETNI')
    expect(secrets.get('INTERPOLATED_SECRET4')).toBe(')(_DETALOPRETNI')
    expect(secrets.get('SECRET_TOKEN')).toBe('1234 with "中文"')
    expect(secrets.get('SECRET_TAG')).toBe('TAGME')
    expect(secrets.files).toEqual(['.kamal/secrets-common', '.kamal/secrets'])
  })

  test('values are masked while loading, including the fetched JSON', () => {
    const masked = maskedValues(captureStdout(() => loadSecrets({ projectDir, provided: {}, env })))
    expect(masked).toEqual(expect.arrayContaining(['1TERCES_DETALOPRETNI', ')(_DETALOPRETNI', '1234 with "中文"']))
    expect(masked.some((value) => value.includes('INTERPOLATED_SECRET1') && value.startsWith('\\{'))).toBe(true)
  })

  test('locations point at the defining line', () => {
    const secrets = load({ projectDir })
    expect(secrets.locationOf('INTERPOLATED_SECRET3')).toEqual({ file: '.kamal/secrets', line: 5, column: 1 })
    expect(secrets.locationOf('SECRET_TAG')).toEqual({ file: '.kamal/secrets-common', line: 2, column: 1 })
  })
})

describe('files and precedence', () => {
  const projectDir = path.join(fixtures, 'destinations')

  test('without a destination: common, then the plain file', () => {
    const secrets = load({ projectDir })
    expect([secrets.get('SHARED'), secrets.get('OVERRIDDEN'), secrets.get('PLAIN_ONLY')]).toEqual(['from-common', 'from-plain', 'plain'])
    expect(secrets.has('STAGING_ONLY')).toBe(false)
  })

  test('with a destination: common, then <path>.<dest>; the plain file is not read', () => {
    const secrets = load({ projectDir, destination: 'staging' })
    expect([secrets.get('SHARED'), secrets.get('OVERRIDDEN'), secrets.get('STAGING_ONLY')]).toEqual(['from-common', 'from-staging', 'staging'])
    expect(secrets.has('PLAIN_ONLY')).toBe(false)
    expect(secrets.files).toEqual(['.kamal/secrets-common', '.kamal/secrets.staging'])
    expect(secrets.locationOf('OVERRIDDEN')).toEqual({ file: '.kamal/secrets.staging', line: 1, column: 8 })
  })

  test('a destination without its own file falls back to common only', () => {
    expect(load({ projectDir, destination: 'nodest' }).get('OVERRIDDEN')).toBe('from-common')
  })

  test('a custom secrets_path', () => {
    const dir = project({ 'config/vault/secrets': 'S=custom', 'config/vault/secrets-common': 'C=common' })
    const secrets = load({ projectDir: dir, secretsPath: 'config/vault/secrets' })
    expect([secrets.get('S'), secrets.get('C')]).toEqual(['custom', 'common'])
  })

  test('each file is parsed on its own: $VAR cannot see keys from the other file', () => {
    const dir = project({ '.kamal/secrets-common': 'BASE=common', '.kamal/secrets': 'DERIVED=[$BASE]' })
    expect(load({ projectDir: dir }).get('DERIVED')).toBe('[]')
  })
})

describe('provided secrets (the action input) and the step environment', () => {
  test('a provided key wins and its command never runs; other commands run once', () => {
    const dir = project({
      '.kamal/secrets': 'TOKEN=$(echo token >> runs; echo from-vault)\nOTHER=$(echo other >> runs; echo other-value)\nURL=x:$TOKEN',
    })
    const secrets = load({ projectDir: dir, provided: { TOKEN: 'from-input' } })
    expect(secrets.get('TOKEN')).toBe('from-input')
    expect(secrets.get('OTHER')).toBe('other-value')
    expect(secrets.get('URL')).toBe('x:from-input')
    expect(readFileSync(path.join(dir, 'runs'), 'utf8')).toBe('other\n')
    expect(secrets.locationOf('TOKEN')).toBeUndefined()
  })

  test('provided values are masked at once', () => {
    const dir = project({})
    const masked = maskedValues(captureStdout(() => loadSecrets({ projectDir: dir, provided: { A: 'provided-secret' }, env })))
    expect(masked).toContain('provided-secret')
  })

  test('the environment is the last fallback, only for keys no file defines, and is masked when used', () => {
    const dir = project({ '.kamal/secrets': 'IN_FILE=file' })
    const secrets = load({ projectDir: dir, env: { ...env, IN_FILE: 'env', ONLY_ENV: 'env-secret', EMPTY: '' } })
    expect(secrets.get('IN_FILE')).toBe('file')
    const stdout = captureStdout(() => expect(secrets.get('ONLY_ENV')).toBe('env-secret'))
    expect(maskedValues(stdout)).toEqual(['env-secret'])
    expect(secrets.values()).toContain('env-secret')
    expect(() => secrets.get('EMPTY')).toThrow(ConfigError)
    expect(secrets.keys()).toEqual(['IN_FILE'])
  })

  test('keys, values and has', () => {
    const dir = project({ '.kamal/secrets': 'A=1111\nBLANK=\nSHARED=file' })
    const secrets = load({ projectDir: dir, provided: { SHARED: 'input', P: 'pppp' } })
    expect(secrets.keys().sort()).toEqual(['A', 'BLANK', 'P', 'SHARED'])
    expect(secrets.values().sort()).toEqual(['1111', 'file', 'input', 'pppp'])
    expect(secrets.has('A')).toBe(true)
    expect(secrets.has('BLANK')).toBe(false)
    expect(secrets.has('NOPE')).toBe(false)
  })
})

describe('errors', () => {
  const at = { file: 'config/deploy.yml', line: 12, column: 7 }

  test('a missing key names the files read and is located where it was referenced', () => {
    const secrets = load({ projectDir: path.join(fixtures, 'destinations') })
    const error = thrown(() => secrets.get('MISSING', at))
    expect(error.message).toMatch(/^Secret 'MISSING' not found in \.kamal\/secrets-common, \.kamal\/secrets\. /)
    expect(error.message).toContain("Add MISSING=… to .kamal/secrets, or pass MISSING in the action's `secrets` input")
    expect(error.location).toEqual(at)
  })

  test('with no secrets files at all, the candidates are named', () => {
    const dir = project({})
    expect(thrown(() => load({ projectDir: dir }).get('X')).message).toMatch(
      /^Secret 'X' not found, no secret files \(\.kamal\/secrets-common, \.kamal\/secrets\) provided\. Create \.kamal\/secrets with X=…/,
    )
    expect(thrown(() => load({ projectDir: dir, destination: 'dest' }).get('X')).message).toContain(
      'no secret files (.kamal/secrets-common, .kamal/secrets.dest) provided',
    )
  })

  test('a failing command is reported at its file and line, relative to the project', () => {
    const dir = project({ '.kamal/secrets-common': 'OK=1', '.kamal/secrets': '\nBROKEN=$(exit 7)' })
    const error = thrown(() => load({ projectDir: dir }))
    expect(error.location).toEqual({ file: '.kamal/secrets', line: 2, column: 1 })
    expect(error.message).toContain('exited with status 7')
  })

  test('a missing vault CLI names the CLI and how to fix it', () => {
    const dir = project({ '.kamal/secrets': 'S=$(kamal secrets fetch --adapter 1password --account a v/i/f)' })
    const error = thrown(() => load({ projectDir: dir, env: { PATH: mkdtempSync(path.join(tmpdir(), 'empty-')) } }))
    expect(error.message).toContain('1Password CLI is not installed')
    expect(error.message).toContain("action's `secrets` input")
    expect(error.location).toMatchObject({ file: '.kamal/secrets', line: 1 })
  })
})

describe('parseSecretsInput', () => {
  test('empty input is no secrets', () => {
    expect(parseSecretsInput('')).toEqual({})
    expect(parseSecretsInput('  \n')).toEqual({})
  })

  test('a JSON object as written by toJSON(secrets)', () => {
    expect(parseSecretsInput('{\n  "github_token": "ghs_x",\n  "KAMAL_REGISTRY_PASSWORD": "p$w\\"d"\n}')).toEqual({
      github_token: 'ghs_x',
      KAMAL_REGISTRY_PASSWORD: 'p$w"d',
    })
  })

  test('non-string JSON values are rejected, naming the key but not the value', () => {
    expect(() => parseSecretsInput('{"A": 12345}')).toThrow(InputError)
    expect(() => parseSecretsInput('{"A": 12345}')).toThrow(/A is a number/)
    expect(() => parseSecretsInput('{"A": 12345}')).not.toThrow(/12345/)
  })

  test('invalid JSON does not echo the text', () => {
    expect(() => parseSecretsInput('{"A": "hunter2"')).toThrow(/not valid JSON/)
    expect(() => parseSecretsInput('{"A": "hunter2"')).not.toThrow(/hunter2/)
  })

  test('KEY=value lines are taken literally: no substitution, no commands, no escapes', () => {
    const text = '# comment\nexport A=$HOME\nB=$(touch /tmp/should-not-run)\nC = "quoted # not a comment"\nD=back\\slash\nE=\'single\'\n'
    expect(parseSecretsInput(text)).toEqual({
      A: '$HOME',
      B: '$(touch /tmp/should-not-run)',
      C: 'quoted # not a comment',
      D: 'back\\slash',
      E: 'single',
    })
  })

  test('a line that is not KEY=value is an error naming its line number only', () => {
    expect(() => parseSecretsInput('A=1\nnot a secret line')).toThrow(/line 2 is not KEY=value/)
    expect(() => parseSecretsInput('A=1\nnot a secret line')).not.toThrow(/not a secret line/)
  })
})
