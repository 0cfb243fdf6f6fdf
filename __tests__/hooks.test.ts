import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { HOOK_NAMES, HookError, hookEnvironment, hookFile, hookOutputLevel, hookLogLines, hookReceivesSecrets, runHook, runHookLogged, serviceVersion, type HookDetails, type HookName } from '../src/hooks'
import { configFromYaml } from './support/config'

const BASE = 'service: app\nimage: dhh/app\nregistry: { username: dhh, password: secret }\nservers: ["1.1.1.1"]\nbuilder: { arch: amd64 }\n'
const recordedAt = new Date('2024-01-01T12:00:00.456Z')
const details = (overrides: Partial<HookDetails> = {}): HookDetails => ({
  config: configFromYaml(BASE, { version: '123' }),
  performer: 'deployer@example.com',
  recordedAt,
  hosts: ['1.1.1.1', '1.1.1.2'],
  lock: false,
  command: 'deploy',
  ...overrides,
})

describe('hookEnvironment (spec §7, Kamal::Tags + run_hook details)', () => {
  test("Kamal's hook_test env, plus the run details every hook gets", () => {
    expect(hookEnvironment('pre-build', details())).toEqual({
      KAMAL_RECORDED_AT: '2024-01-01T12:00:00Z',
      KAMAL_PERFORMER: 'deployer@example.com',
      KAMAL_VERSION: '123',
      KAMAL_SERVICE_VERSION: 'app@123',
      KAMAL_SERVICE: 'app',
      KAMAL_HOSTS: '1.1.1.1,1.1.1.2',
      KAMAL_LOCK: 'false',
      KAMAL_COMMAND: 'deploy',
    })
  })

  test('Kamal order of the variables', () => {
    const env = hookEnvironment('post-deploy', details({ config: configFromYaml(BASE, { version: '123', destination: 'staging' }), roles: ['web'], lock: true, subcommand: 'boot', runtimeSeconds: 3 }))
    expect(Object.keys(env)).toEqual([
      'KAMAL_RECORDED_AT',
      'KAMAL_PERFORMER',
      'KAMAL_DESTINATION',
      'KAMAL_VERSION',
      'KAMAL_SERVICE_VERSION',
      'KAMAL_SERVICE',
      'KAMAL_HOSTS',
      'KAMAL_ROLES',
      'KAMAL_LOCK',
      'KAMAL_COMMAND',
      'KAMAL_SUBCOMMAND',
      'KAMAL_RUNTIME',
    ])
  })

  test.each([
    ['destination', { config: configFromYaml(BASE, { version: '123', destination: 'staging' }) }, 'KAMAL_DESTINATION', 'staging'],
    ['roles only when some were selected', { roles: ['web', 'workers'] }, 'KAMAL_ROLES', 'web,workers'],
    ['no roles selected', { roles: [] }, 'KAMAL_ROLES', undefined],
    ['lock held', { lock: true }, 'KAMAL_LOCK', 'true'],
    ['subcommand', { command: 'app', subcommand: 'boot' }, 'KAMAL_SUBCOMMAND', 'boot'],
    ['group hosts', { hosts: ['1.1.1.3'] }, 'KAMAL_HOSTS', '1.1.1.3'],
    ['runtime rounded', { runtimeSeconds: 41.5 }, 'KAMAL_RUNTIME', '42'],
    ['runtime rounded down', { runtimeSeconds: 41.49 }, 'KAMAL_RUNTIME', '41'],
    ['a git sha is abbreviated', { config: configFromYaml(BASE, { version: '0123456789abcdef0123456789abcdef01234567' }) }, 'KAMAL_SERVICE_VERSION', 'app@0123456'],
    ['the full version stays in KAMAL_VERSION', { config: configFromYaml(BASE, { version: '0123456789abcdef0123456789abcdef01234567' }) }, 'KAMAL_VERSION', '0123456789abcdef0123456789abcdef01234567'],
    ['a version with _ is not abbreviated', { config: configFromYaml(BASE, { version: '0123456789ab_uncommitted_ff' }) }, 'KAMAL_SERVICE_VERSION', 'app@0123456789ab_uncommitted_ff'],
  ] as Array<[string, Partial<HookDetails>, string, string | undefined]>)('%s', (_name, overrides, key, expected) => {
    expect(hookEnvironment('pre-deploy', details(overrides))[key]).toBe(expected)
  })

  test('secrets only for pre-connect, pre-deploy and post-deploy; they override like Kamal\'s merge!', () => {
    const secrets = { DB_PASSWORD: 'secret', KAMAL_SERVICE: 'from-a-secret' }
    const receiving = HOOK_NAMES.filter((hook) => hookReceivesSecrets(hook))
    expect(receiving).toEqual(['pre-connect', 'pre-deploy', 'post-deploy'])
    for (const hook of HOOK_NAMES) {
      const env = hookEnvironment(hook, details({ secrets }))
      if (receiving.includes(hook)) expect(env).toMatchObject(secrets)
      else expect(env.DB_PASSWORD).toBeUndefined()
    }
  })

  test('serviceVersion', () => {
    expect(serviceVersion('app', '123')).toBe('app@123')
    expect(serviceVersion('app', 'abcdefghij')).toBe('app@abcdefg')
  })

  test('hooks_output per hook or for all', () => {
    expect(hookOutputLevel(configFromYaml(BASE), 'pre-deploy')).toBeUndefined()
    expect(hookOutputLevel(configFromYaml(BASE + 'hooks_output: :verbose\n'), 'pre-deploy')).toBe('verbose')
    const perHook = configFromYaml(BASE + 'hooks_output: { pre-deploy: verbose, pre-build: quiet }\n')
    expect([hookOutputLevel(perHook, 'pre-deploy'), hookOutputLevel(perHook, 'pre-build'), hookOutputLevel(perHook, 'post-deploy')]).toEqual(['verbose', 'quiet', undefined])
  })

  test('hookFile: <hooks_path>/<name>', () => {
    expect(hookFile('.kamal/hooks', 'pre-deploy')).toBe('.kamal/hooks/pre-deploy')
    expect(hookFile('custom/hooks/path', 'pre-deploy')).toBe('custom/hooks/path/pre-deploy')
  })
})

describe('runHook (real hook scripts in a temp project)', () => {
  let project: string
  beforeEach(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'kamal-hooks-'))
  })
  afterEach(() => fs.rmSync(project, { recursive: true, force: true }))

  const writeHook = (name: HookName, body: string, { dir = '.kamal/hooks', mode = 0o755 } = {}) => {
    const file = path.join(project, dir, name)
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, body)
    fs.chmodSync(file, mode)
    return file
  }
  const options = (hookEnv: Record<string, string> = {}, extra: Partial<Parameters<typeof runHook>[1]> = {}) => ({
    projectDir: project,
    hooksPath: '.kamal/hooks',
    baseEnv: { PATH: process.env.PATH, FROM_THE_STEP: 'kept' },
    hookEnv,
    ...extra,
  })

  test('no hook file: nothing runs', async () => {
    await expect(runHook('pre-deploy', options())).resolves.toEqual({ ran: false, file: '.kamal/hooks/pre-deploy', output: '', durationMs: 0 })
  })

  test('runs in the project directory with the step environment plus the KAMAL_* variables and secrets', async () => {
    writeHook('pre-deploy', '#!/bin/sh\necho "cwd=$(pwd)"\necho "$KAMAL_SERVICE_VERSION on $KAMAL_HOSTS lock=$KAMAL_LOCK"\necho "secret=$DB_PASSWORD step=$FROM_THE_STEP"\necho "args=$#"\n')
    const env = hookEnvironment('pre-deploy', details({ lock: true, secrets: { DB_PASSWORD: 's3cret' } }))
    const chunks: string[] = []
    const result = await runHook('pre-deploy', options(env, { onOutput: (chunk) => chunks.push(chunk) }))
    expect(result.ran).toBe(true)
    expect(result.output).toBe(`cwd=${fs.realpathSync(project)}\napp@123 on 1.1.1.1,1.1.1.2 lock=true\nsecret=s3cret step=kept\nargs=0\n`)
    expect(chunks.join('')).toBe(result.output)
  })

  test('custom hooks_path', async () => {
    writeHook('post-deploy', '#!/bin/sh\necho "took $KAMAL_RUNTIME s"\n', { dir: 'ops/hooks' })
    const result = await runHook('post-deploy', options(hookEnvironment('post-deploy', details({ runtimeSeconds: 12.4 })), { hooksPath: 'ops/hooks' }))
    expect(result).toMatchObject({ ran: true, file: 'ops/hooks/post-deploy', output: 'took 12 s\n' })
  })

  test('a non-zero exit: Hook `<name>` failed, with the status and the output (stdout and stderr)', async () => {
    writeHook('pre-build', '#!/bin/sh\necho "checking…"\necho "tests are red" >&2\nexit 3\n')
    const error = await runHook('pre-build', options()).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(HookError)
    // stdout and stderr are separate pipes, so only each line's presence is certain
    const message = (error as HookError).message
    expect(message.startsWith('Hook `pre-build` failed:\n.kamal/hooks/pre-build exit status: 3\n')).toBe(true)
    expect(message.split('\n').slice(2).sort()).toEqual(['checking…', 'tests are red'])
    expect((error as HookError).hook).toBe('pre-build')
  })

  test('a hook that is not executable: the error says to chmod +x it', async () => {
    writeHook('pre-connect', '#!/bin/sh\necho never\n', { mode: 0o644 })
    await expect(runHook('pre-connect', options())).rejects.toThrow(
      'Hook `pre-connect` failed:\n.kamal/hooks/pre-connect is not executable. Run `chmod +x .kamal/hooks/pre-connect` and commit it (`git update-index --chmod=+x .kamal/hooks/pre-connect` keeps the bit in git).',
    )
  })

  test('a directory in place of a hook', async () => {
    fs.mkdirSync(path.join(project, '.kamal/hooks/pre-deploy'), { recursive: true })
    await expect(runHook('pre-deploy', options())).rejects.toThrow('.kamal/hooks/pre-deploy is not a file')
  })

  test('an interpreter that does not exist', async () => {
    writeHook('pre-deploy', '#!/nonexistent/interpreter\necho never\n')
    await expect(runHook('pre-deploy', options())).rejects.toThrow(/^Hook `pre-deploy` failed:\n\.kamal\/hooks\/pre-deploy could not be started \(ENOENT/)
  })

  test('a timeout kills the hook and what it started', async () => {
    writeHook('pre-app-boot', '#!/bin/sh\nsleep 5\necho done\n')
    await expect(runHook('pre-app-boot', options({}, { timeoutMs: 200 }))).rejects.toThrow('Hook `pre-app-boot` failed:\n.kamal/hooks/pre-app-boot was killed by SIGTERM after 200 ms')
  })

  test('stdin is closed: a prompting hook does not hang', async () => {
    writeHook('pre-deploy', '#!/bin/sh\nread answer || echo "no input"\n')
    await expect(runHook('pre-deploy', options())).resolves.toMatchObject({ output: 'no input\n' })
  })
})

describe('hooks_output: what the log shows (Kamal run_hook verbosity)', () => {
  let project: string
  beforeEach(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'kamal-hooks-output-'))
    fs.mkdirSync(path.join(project, '.kamal/hooks'), { recursive: true })
  })
  afterEach(() => fs.rmSync(project, { recursive: true, force: true }))

  const hook = (body: string) => {
    const file = path.join(project, '.kamal/hooks/pre-deploy')
    fs.writeFileSync(file, body)
    fs.chmodSync(file, 0o755)
  }
  const options = () => ({ projectDir: project, hooksPath: '.kamal/hooks', baseEnv: { PATH: process.env.PATH }, hookEnv: {} })
  /** runs the hook through runHookLogged and returns the sections it opened with their lines */
  const logged = async (level: 'quiet' | 'verbose' | undefined) => {
    const sections: Array<{ title: string; lines: string[] }> = []
    await runHookLogged('pre-deploy', options(), level, async (title, work) => {
      const section = { title, lines: [] as string[] }
      sections.push(section)
      await work((line) => section.lines.push(line))
    })
    return sections
  }

  test.each([
    ['unset: the Running and Finished lines, not the output', undefined, ['Running .kamal/hooks/pre-deploy', 'Finished']],
    ['verbose: the output too', 'verbose' as const, ['Running .kamal/hooks/pre-deploy', '  checked 3 files', '  all good', 'Finished']],
  ])('%s', async (_name, level, expected) => {
    hook('#!/bin/sh\necho "checked 3 files"\necho "all good" >&2\n')
    const sections = await logged(level)
    expect(sections.map((section) => section.title)).toEqual(['Hook pre-deploy'])
    expect(sections[0].lines.map((line) => (line.startsWith('Finished in ') ? 'Finished' : line))).toEqual(expected)
    expect(sections[0].lines[sections[0].lines.length - 1]).toMatch(/^Finished in \d+\.\d{3} seconds with exit status 0 \(successful\)\.$/)
  })

  test('quiet: no section, not even the Running line', async () => {
    hook('#!/bin/sh\necho "should stay hidden"\n')
    expect(await logged('quiet')).toEqual([])
  })

  test('quiet: a failing hook still fails with its output in the error', async () => {
    hook('#!/bin/sh\necho "tests are red"\nexit 1\n')
    await expect(logged('quiet')).rejects.toThrow('Hook `pre-deploy` failed:\n.kamal/hooks/pre-deploy exit status: 1\ntests are red')
  })

  test('a hook that is not there logs nothing', () => {
    expect(hookLogLines({ ran: false, file: '.kamal/hooks/pre-deploy', output: '', durationMs: 0 }, 'verbose')).toEqual([])
  })

  test('the level comes from the config, per hook or for all', () => {
    const perHook = configFromYaml(BASE + 'hooks_output:\n  pre-deploy: :quiet\n')
    expect([hookOutputLevel(perHook, 'pre-deploy'), hookOutputLevel(perHook, 'pre-build')]).toEqual(['quiet', undefined])
  })
})
