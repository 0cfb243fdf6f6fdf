import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { isCloneResetStep, isCloneStep, planBuild, type RunnerFacts } from '../src/commands/builder'
import { BuildError, buildCloneDirectory, prepareClone, prepareRemoteBuilderSsh, probeRunner, runRunnerStep, StepStoppedError, type StepIo } from '../src/deploy/build'
import type { RunnerStep } from '../src/plan/runner-step'
import { configFromYaml } from './support/config'

// Real processes (sh, node): what the executor hands a step and what it records.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'builder-executor-'))
const printEnv = (names: string[]) => ['node', '-e', `for (const n of ${JSON.stringify(names)}) console.log(n + '=' + (process.env[n] ?? '<unset>'))`]

function step(argv: string[], extra: Partial<RunnerStep> = {}): RunnerStep {
  return { kind: 'runner', purpose: 'test step', argv, display: argv.join(' '), cwd: scratch, ...extra }
}

function io(extra: Partial<StepIo> = {}): StepIo & { lines: string[] } {
  const lines: string[] = []
  return { secrets: (name) => `value-of-${name}`, env: { PATH: process.env.PATH, ACTIONS_RUNTIME_TOKEN: 'rt', ACTIONS_CACHE_URL: 'cu', OTHER: 'o' }, log: (line) => lines.push(line), lines, ...extra }
}

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim()

/** A git repository at `repo` with one commit holding `dockerfile` (a path inside it). */
function committedRepo(repo: string, dockerfile: string): void {
  fs.mkdirSync(path.dirname(path.join(repo, dockerfile)), { recursive: true })
  git(repo, 'init', '-q', '-b', 'main')
  git(repo, 'config', 'user.email', 'd@example.com')
  git(repo, 'config', 'user.name', 'D')
  fs.writeFileSync(path.join(repo, dockerfile), 'FROM scratch\n')
  git(repo, 'add', '-A')
  git(repo, 'commit', '-qm', 'one')
}

describe('runRunnerStep', () => {
  test('cache-service variables reach only steps that pass them by name; secrets by env, redacted from the output', async () => {
    const names = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_CACHE_URL', 'OTHER', 'TOKEN', 'EXTRA']
    const plain = await runRunnerStep(step(printEnv(names)), io())
    expect(plain.outputTail.split('\n')).toEqual(['ACTIONS_RUNTIME_TOKEN=<unset>', 'ACTIONS_CACHE_URL=<unset>', 'OTHER=o', 'TOKEN=<unset>', 'EXTRA=<unset>'])
    const passing = await runRunnerStep(step(printEnv(names), { passEnv: ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL'], secretEnv: ['TOKEN'], env: { EXTRA: 'e' } }), io())
    expect(passing.outputTail.split('\n')).toEqual(['ACTIONS_RUNTIME_TOKEN=rt', 'ACTIONS_CACHE_URL=<unset>', 'OTHER=o', 'TOKEN=***', 'EXTRA=e'])
    expect(passing.outcome).toBe('ok')
  })

  test('skipIf exiting 0 skips the step; non-zero runs it (with the step env)', async () => {
    const marker = path.join(scratch, 'ran')
    const touch = step(['sh', '-c', `echo ran > ${marker}`], { skipIf: { argv: ['sh', '-c', 'test "$FLAG" = yes'], display: 'flag set' }, env: { FLAG: 'yes' } })
    expect((await runRunnerStep(touch, io())).outcome).toBe('skipped')
    expect(fs.existsSync(marker)).toBe(false)
    const record = await runRunnerStep({ ...touch, env: { FLAG: 'no' } }, io())
    expect(record.outcome).toBe('ok')
    expect(fs.readFileSync(marker, 'utf8')).toBe('ran\n')
  })

  test('the registry password goes on stdin, never in argv or the output', async () => {
    const record = await runRunnerStep(step(['sh', '-c', 'read password; echo "got $password"'], { stdin: 'registry-password' }), io({ registryPassword: 'hunter2' }))
    expect(record.outputTail).toBe('got ***')
  })

  test('a failure throws a BuildError naming the step and the exit status, unless allowFailure', async () => {
    const failing = step(['sh', '-c', 'echo boom; exit 3'], { purpose: 'create the builder' })
    await expect(runRunnerStep(failing, io())).rejects.toThrow(BuildError)
    await expect(runRunnerStep(failing, io())).rejects.toThrow(/create the builder failed on the runner with exit status 3: sh -c echo boom; exit 3\nboom/)
    expect(await runRunnerStep({ ...failing, allowFailure: true }, io())).toMatchObject({ outcome: 'failed', code: 3, outputTail: 'boom' })
    expect((await runRunnerStep({ ...failing, argv: ['no-such-program-here'], allowFailure: true }, io())).code).toBe(127)
  })

  test('an aborted signal stops the running process (SIGTERM) and throws StepStoppedError; the step after it never starts', async () => {
    const controller = new AbortController()
    const marker = path.join(scratch, 'finished')
    // the shell notes its SIGTERM; its sleep, a child as docker's buildx plugin is, gets one too (the whole group)
    const slow = step(['sh', '-c', `trap 'echo stopped > ${marker}.term; exit 143' TERM; sleep 30 & echo $! > ${marker}.pid; wait; echo done > ${marker}`])
    const started = Date.now()
    const running = runRunnerStep(slow, io({ signal: controller.signal }))
    setTimeout(() => controller.abort(), 300)
    await expect(running).rejects.toThrow(StepStoppedError)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(fs.readFileSync(`${marker}.term`, 'utf8')).toBe('stopped\n')
    expect(fs.existsSync(marker)).toBe(false)
    // gone, or a zombie waiting to be reaped by whoever adopted it
    const sleeper = Number(fs.readFileSync(`${marker}.pid`, 'utf8'))
    const sleeperRuns = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${sleeper}/stat`, 'utf8'))
      } catch {
        return false
      }
    }
    for (let waited = 0; sleeperRuns() && waited < 3000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(sleeperRuns()).toBe(false)
    await expect(runRunnerStep(step(['sh', '-c', `echo ran > ${marker}`]), io({ signal: controller.signal }))).rejects.toThrow(StepStoppedError)
    expect(fs.existsSync(marker)).toBe(false)
  })

  /** Runs argv as a step, stops it after `abortAfterMs`; the ms from the stop until the step threw StepStoppedError. */
  async function stopAfter(argv: string[], abortAfterMs: number): Promise<number> {
    const controller = new AbortController()
    const running = runRunnerStep(step(argv), io({ signal: controller.signal }))
    await new Promise((resolve) => setTimeout(resolve, abortAfterMs))
    const stoppedAt = Date.now()
    controller.abort()
    await expect(running).rejects.toThrow(StepStoppedError)
    return Date.now() - stoppedAt
  }

  test('a process that shrugs off the first SIGTERM (docker before its buildx plugin runs) gets another until it ends; one that ignores them all, SIGKILL', async () => {
    // ends on its second SIGTERM only
    expect(await stopAfter(['sh', '-c', 'n=0; trap \'n=$((n+1)); [ $n -ge 2 ] && exit 143\' TERM; while :; do sleep 0.05; done'], 200)).toBeLessThan(3000)

    const marker = path.join(scratch, 'deaf-finished')
    const tookMs = await stopAfter(['sh', '-c', `trap '' TERM; sleep 20; echo done > ${marker}`], 300)
    expect(tookMs).toBeGreaterThanOrEqual(4900)
    expect(tookMs).toBeLessThan(12_000)
    expect(fs.existsSync(marker)).toBe(false)
  }, 20_000)

  test('a stopped step does not wait for a process it left behind holding the output open', async () => {
    // the sleep leaves the process group (setsid), so the stop does not reach it: it holds the output pipes for 6 s
    expect(await stopAfter(['sh', '-c', 'setsid sleep 6 & wait'], 200)).toBeLessThan(4500)
  })
})

describe('remote builder ssh', () => {
  test('the wrapper runs the real ssh with the deploy key, the pinned known_hosts and strict checking, key files 0600', () => {
    const fakeBin = path.join(scratch, 'bin')
    fs.mkdirSync(fakeBin, { recursive: true })
    // a stand-in for OpenSSH's ssh that prints what it was given
    fs.writeFileSync(path.join(fakeBin, 'ssh'), '#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n', { mode: 0o755 })
    const dir = path.join(scratch, 'kamal-builder-ssh')
    const lines: string[] = []
    prepareRemoteBuilderSsh(dir, { privateKeys: ['KEY-ONE'], knownHosts: '10.0.0.1 ssh-ed25519 AAAA\n' }, { PATH: fakeBin }, (line) => lines.push(line))
    const args = execFileSync(path.join(dir, 'ssh'), ['-o', 'ConnectTimeout=30', '-T', '-l', 'root', '--', '10.0.0.1', 'docker', 'system', 'dial-stdio'], { encoding: 'utf8' }).trim().split('\n')
    expect(args).toEqual([
      '-o', 'IdentitiesOnly=yes', '-i', path.join(dir, 'id-0'),
      '-o', `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
      '-o', 'ConnectTimeout=30', '-T', '-l', 'root', '--', '10.0.0.1', 'docker', 'system', 'dial-stdio',
    ])
    expect(fs.readFileSync(path.join(dir, 'id-0'), 'utf8')).toBe('KEY-ONE\n')
    expect(fs.statSync(path.join(dir, 'id-0')).mode & 0o777).toBe(0o600)
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
    expect(fs.readFileSync(path.join(dir, 'ssh'), 'utf8')).not.toContain('KEY-ONE')
    expect(lines).toEqual([])
  })

  test('without pinned host keys: accept-new into its own file, with a warning', () => {
    const fakeBin = path.join(scratch, 'bin')
    const dir = path.join(scratch, 'unpinned-ssh')
    const lines: string[] = []
    prepareRemoteBuilderSsh(dir, { privateKeys: [] }, { PATH: fakeBin }, (line) => lines.push(line))
    expect(fs.readFileSync(path.join(dir, 'ssh'), 'utf8')).toContain('StrictHostKeyChecking\\=accept-new')
    expect(lines[0]).toContain('host key is not pinned')
  })

  test('no ssh client on PATH is a clear error', () => {
    expect(() => prepareRemoteBuilderSsh(path.join(scratch, 'none'), { privateKeys: [] }, { PATH: path.join(scratch, 'empty') }, () => undefined)).toThrow(/needs an OpenSSH client/)
  })
})

test('the build clone is per job: under RUNNER_TEMP when set', () => {
  const config = configFromYaml('service: app\nimage: a/b\nregistry: { username: u, password: p }\nservers: [1.1.1.1]\nbuilder: { arch: amd64 }\n')
  expect(buildCloneDirectory(config, scratch, { RUNNER_TEMP: '/job/one' })).toMatch(/^\/job\/one\/kamal-clones\/app-[0-9a-f]{13}$/)
  expect(buildCloneDirectory(config, scratch, {})).toMatch(new RegExp(`^${os.tmpdir()}/kamal-clones/app-[0-9a-f]{13}$`))
})

describe('the build clone (real git)', () => {

  test('clone, reuse and reset to the new revision, and delete + clone again when the clone is broken', async () => {
    const repo = path.join(scratch, 'my app')
    committedRepo(repo, 'web/Dockerfile')
    const config = configFromYaml('service: app\nimage: a/b\nregistry: { username: u, password: p }\nservers: [1.1.1.1]\nbuilder: { arch: amd64 }\n')
    const projectDir = path.join(repo, 'web')
    const tempDir = path.join(scratch, 'job-temp')
    const plan = (revision: string) => {
      const facts: RunnerFacts = { docker: true, buildx: true, pack: false, dockerArch: 'amd64', projectDir, git: { root: repo, revision }, tempDir, dockerfilePresent: true, env: {} }
      return planBuild(config, facts).filter(isCloneStep)
    }
    const cloneDir = buildCloneDirectory(config, projectDir, { RUNNER_TEMP: tempDir })
    const buildDir = path.join(cloneDir, 'my app', 'web')
    const stepIo = io()

    const first = await prepareClone(plan(git(repo, 'rev-parse', 'HEAD')), stepIo, git(repo, 'rev-parse', 'HEAD'), cloneDir)
    expect(first.find((record) => record.step.purpose === 'clone the committed tree')?.outcome).toBe('ok')
    // Kamal resets only a clone that was already there; a fresh one is at the revision
    const resetOutcomes = (records: typeof first) => records.filter((record) => isCloneResetStep(record.step)).map((record) => record.outcome)
    expect(resetOutcomes(first).length).toBeGreaterThanOrEqual(5)
    expect(new Set(resetOutcomes(first))).toEqual(new Set(['skipped']))
    expect(fs.readFileSync(path.join(buildDir, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n')

    fs.writeFileSync(path.join(repo, 'web/Dockerfile'), 'FROM scratch\nLABEL v=2\n')
    fs.writeFileSync(path.join(repo, 'web/uncommitted.txt'), 'not in the image\n')
    git(repo, 'commit', '-qam', 'two')
    fs.writeFileSync(path.join(buildDir, 'stray.txt'), 'left over\n')
    const second = await prepareClone(plan(git(repo, 'rev-parse', 'HEAD')), stepIo, git(repo, 'rev-parse', 'HEAD'), cloneDir)
    expect(second.find((record) => record.step.purpose === 'clone the committed tree')?.outcome).toBe('skipped')
    expect(new Set(resetOutcomes(second))).toEqual(new Set(['ok']))
    expect(fs.readFileSync(path.join(buildDir, 'Dockerfile'), 'utf8')).toContain('LABEL v=2')
    expect(fs.existsSync(path.join(buildDir, 'stray.txt'))).toBe(false)
    expect(fs.existsSync(path.join(buildDir, 'uncommitted.txt'))).toBe(false)

    // a clone that is no repository any more: the clone fails ("already exists"), it is deleted and cloned again
    fs.rmSync(path.join(cloneDir, 'my app', '.git'), { recursive: true })
    const third = await prepareClone(plan(git(repo, 'rev-parse', 'HEAD')), stepIo, git(repo, 'rev-parse', 'HEAD'), cloneDir)
    expect(stepIo.lines.some((line) => line.startsWith('Error preparing clone: '))).toBe(true)
    expect(third.find((record) => record.step.purpose === 'clone the committed tree')?.outcome).toBe('ok')
    expect(git(buildDir, 'rev-parse', 'HEAD')).toBe(git(repo, 'rev-parse', 'HEAD'))
  }, 60_000)
})

describe('probeRunner', () => {
  /** A `docker` on PATH that logs its argv and answers as a runner with or without buildx would. */
  /**
   * `pluginFile`: a docker-buildx file in DOCKER_CONFIG/cli-plugins (where the CLI looks for plugins);
   * `buildxDelay`: seconds `docker buildx version` takes; `daemonDown`: `docker info` fails as without a
   * reachable daemon. `events()` is the log in order, `start:`/`end:` lines.
   */
  function fakeDocker(buildx: boolean, { pluginFile = buildx, buildxDelay = 0, daemonDown = false } = {}): { env: NodeJS.ProcessEnv; calls: () => string[]; events: () => string[] } {
    const bin = fs.mkdtempSync(path.join(scratch, 'bin-'))
    const config = path.join(bin, 'docker-config')
    fs.mkdirSync(path.join(config, 'cli-plugins'), { recursive: true })
    if (pluginFile) fs.writeFileSync(path.join(config, 'cli-plugins', 'docker-buildx'), '', { mode: 0o755 })
    const log = path.join(bin, 'calls')
    const buildxAnswer = buildx ? 'echo "github.com/docker/buildx v0.20.0"' : 'echo "unknown command: docker buildx" >&2; status=1'
    const script = ['#!/bin/sh', `echo "start:$*" >> ${log}`, 'status=0', 'case "$1" in', `  buildx) sleep ${buildxDelay}; ${buildxAnswer} ;;`, daemonDown ? '  info) echo "Cannot connect to the Docker daemon" >&2; status=1 ;;' : '  info) echo aarch64 ;;', '  *) echo "Docker version 28.2.2" ;;', 'esac', `echo "end:$*" >> ${log}`, 'exit $status', '']
    fs.writeFileSync(path.join(bin, 'docker'), script.join('\n'), { mode: 0o755 })
    const events = () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)
    return { env: { PATH: `${bin}:${originalPath}`, DOCKER_CONFIG: config }, events, calls: () => events().filter((line) => line.startsWith('start:')).map((line) => line.slice('start:'.length)).sort() }
  }
  // @actions/exec finds the executable on the process's own PATH.
  const originalPath = process.env.PATH
  const probe = async (docker: { env: NodeJS.ProcessEnv }, on: ReturnType<typeof project>) => {
    process.env.PATH = docker.env.PATH
    try {
      return await probeRunner(docker.env, on)
    } finally {
      process.env.PATH = originalPath
    }
  }
  const project = (builder: string) => ({ config: configFromYaml(`service: app\nimage: acme/app\nservers: [vm1]\nregistry: { username: u, password: p }\nbuilder:\n${builder}`), projectDir: scratch })

  test('the checkout: its root, HEAD, and whether HEAD has a .gitmodules (a working-tree file alone does not count)', async () => {
    const repo = fs.mkdtempSync(path.join(scratch, 'modules-'))
    committedRepo(repo, 'Dockerfile')
    const on = { ...project('  arch: amd64\n'), projectDir: repo }
    const docker = fakeDocker(true)
    const first = await probe(docker, on)
    expect(first.git).toEqual({ root: fs.realpathSync(repo), revision: git(repo, 'rev-parse', 'HEAD'), submodules: false })
    fs.writeFileSync(path.join(repo, '.gitmodules'), '[submodule "lib"]\n\tpath = lib\n\turl = ../lib\n')
    expect((await probe(docker, on)).git?.submodules).toBe(false)
    git(repo, 'add', '-A')
    git(repo, 'commit', '-qm', 'modules')
    expect((await probe(docker, on)).git?.submodules).toBe(true)
  })

  test('no checkout facts outside a git repository, nor in one without a commit', async () => {
    const docker = fakeDocker(true)
    const plain = fs.mkdtempSync(path.join(scratch, 'plain-'))
    expect((await probe(docker, { ...project('  arch: amd64\n'), projectDir: plain })).git).toBeUndefined()
    const empty = fs.mkdtempSync(path.join(scratch, 'empty-'))
    git(empty, 'init', '-q', '-b', 'main')
    expect((await probe(docker, { ...project('  arch: amd64\n'), projectDir: empty })).git).toBeUndefined()
  })

  test('with buildx and no remote builder, docker info is not asked (the architecture decides nothing)', async () => {
    const docker = fakeDocker(true)
    const facts = await probe(docker, project('  arch: amd64\n'))
    expect(facts.buildx).toBe(true)
    expect(docker.calls()).toEqual(['buildx version'])
  })

  test('docker --version is asked only when neither `buildx version` nor `info` answered', async () => {
    const daemonDown = fakeDocker(false, { daemonDown: true })
    expect(await probe(daemonDown, project('  arch: amd64\n'))).toMatchObject({ docker: true, buildx: false })
    expect(daemonDown.calls()).toEqual(['--version', 'buildx version', 'info --format {{.Architecture}}'])
    const events = daemonDown.events()
    expect(events.indexOf('start:--version')).toBeGreaterThan(events.indexOf('end:info --format {{.Architecture}}'))

    const missing = fs.mkdtempSync(path.join(scratch, 'no-docker-'))
    fs.symlinkSync(process.execPath, path.join(missing, 'node'))
    fs.symlinkSync(execFileSync('sh', ['-c', 'command -v git']).toString().trim(), path.join(missing, 'git'))
    const facts = await probe({ env: { PATH: missing } }, project('  arch: amd64\n'))
    expect(facts).toMatchObject({ docker: false, buildx: false })
  })

  test('without buildx, or with a remote builder, docker info gives the architecture', async () => {
    const legacy = fakeDocker(false)
    const withoutBuildx = await probe(legacy, project('  arch: amd64\n'))
    expect(withoutBuildx).toMatchObject({ buildx: false, dockerArch: 'arm64' })
    expect(legacy.calls()).toEqual(['buildx version', 'info --format {{.Architecture}}'])

    const remote = fakeDocker(true)
    const withRemote = await probe(remote, project('  arch: [amd64, arm64]\n  remote: ssh://root@builder\n'))
    expect(withRemote.dockerArch).toBe('arm64')
    expect(remote.calls()).toContain('info --format {{.Architecture}}')
  })

  test('without a buildx plugin file, docker info starts beside `docker buildx version`, not after it fails', async () => {
    const legacy = fakeDocker(false, { buildxDelay: 0.4 })
    expect(await probe(legacy, project('  arch: amd64\n'))).toMatchObject({ buildx: false, dockerArch: 'arm64' })
    const events = legacy.events()
    expect(events.indexOf('start:info --format {{.Architecture}}')).toBeLessThan(events.indexOf('end:buildx version'))
  })

  test('the plugin file is only a guess: buildx that fails anyway still gets docker info, and buildx found without the file makes info unused', async () => {
    const broken = fakeDocker(false, { pluginFile: true, buildxDelay: 0.2 })
    expect(await probe(broken, project('  arch: amd64\n'))).toMatchObject({ buildx: false, dockerArch: 'arm64' })
    const events = broken.events()
    expect(events.indexOf('start:info --format {{.Architecture}}')).toBeGreaterThan(events.indexOf('end:buildx version'))

    const elsewhere = fakeDocker(true, { pluginFile: false })
    const facts = await probe(elsewhere, project('  arch: amd64\n'))
    expect(facts).toMatchObject({ buildx: true, dockerArch: os.arch() === 'x64' ? 'amd64' : os.arch() })
  })
})
