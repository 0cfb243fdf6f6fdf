import { buildCommand, planBuild, type PlanBuildOptions, type RunnerFacts } from '../src/commands/builder'
import { evaluateShellWord } from '../src/commands/shell-word'
import { ConfigError } from '../src/errors'
import type { RunnerStep } from '../src/plan/runner-step'
import { configFromYaml } from './support/config'

// Kamal v2.12.0 test/commands/builder_test.rb and test/configuration/builder_test.rb: the same
// config (service app, image dhh/app, version 123, arch amd64), the same expected strings.
const BASE = `service: app
image: dhh/app
registry: { username: dhh, password: secret }
servers: ["1.1.1.1"]
`

function config(builder: string, extra = '') {
  return configFromYaml(`${BASE}${extra}builder:\n${builder}`, { version: '123' })
}

const FACTS: RunnerFacts = {
  docker: true,
  buildx: true,
  pack: true,
  dockerArch: 'amd64',
  projectDir: '/work/app',
  git: { root: '/work/app', revision: 'abc123' },
  tempDir: '/runner/temp',
  dockerfilePresent: true,
  env: { PATH: '/usr/bin', SSH_AUTH_SOCK: '/run/agent.sock', ACTIONS_RUNTIME_TOKEN: 'runtime-token' },
}

function plan(builder: string, facts: Partial<RunnerFacts> = {}, options: PlanBuildOptions = {}, extra = ''): RunnerStep[] {
  return planBuild(config(builder, extra), { ...FACTS, ...facts }, options)
}

const buildStep = (steps: RunnerStep[]) => steps[steps.length - 1]
const displays = (steps: RunnerStep[], purpose: RegExp) => steps.filter((step) => purpose.test(step.purpose)).map((step) => step.display)

function refusal(run: () => unknown): ConfigError {
  try {
    run()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('the build command, as Kamal writes it', () => {
  test.each([
    ['cache gha', '  arch: amd64\n  cache: { type: gha }\n', {}, 'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1'],
    ['hybrid: two arches, one local', '  arch: [amd64, arm64]\n  remote: ssh://app@127.0.0.1\n  cache: { type: gha }\n', {}, 'docker buildx build --output=type=registry --platform linux/amd64,linux/arm64 --builder kamal-hybrid-docker-container-ssh---app-127-0-0-1 -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1'],
    ['remote: local disabled', '  arch: [amd64, arm64]\n  remote: ssh://app@127.0.0.1\n  cache: { type: gha }\n  local: false\n', {}, 'docker buildx build --output=type=registry --platform linux/amd64,linux/arm64 --builder kamal-remote-ssh---app-127-0-0-1 -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1'],
    ['remote: arch is not the local one', '  arch: [arm64]\n  remote: ssh://app@host\n  cache: { type: gha }\n', {}, 'docker buildx build --output=type=registry --platform linux/arm64 --builder kamal-remote-ssh---app-host -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1'],
    ['local: remote set but the arch is local', '  arch: [amd64]\n  remote: ssh://app@host\n  cache: { type: gha }\n', {}, 'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --cache-to type=gha --cache-from type=gha --label service="app" --file Dockerfile . 2>&1'],
    ['cloud', '  arch: [amd64]\n  driver: cloud docker-org-name/builder-name\n', {}, 'docker buildx build --output=type=registry --platform linux/amd64 --builder cloud-docker-org-name-builder-name -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1'],
    ['context ..', '  arch: amd64\n  context: ".."\n', {}, 'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile .. 2>&1'],
    ['context ./foo', '  arch: amd64\n  context: ./foo\n', {}, 'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile ./foo 2>&1'],
    ['build args (display redacted, as Kamal logs them)', '  arch: amd64\n  args: { a: 1, b: 2 }\n', {}, 'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --build-arg a=[REDACTED] --build-arg b=[REDACTED] --file Dockerfile . 2>&1'],
    ['secrets', '  arch: amd64\n  secrets: [a, b]\n', {}, 'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --secret id="a" --secret id="b" --file Dockerfile . 2>&1'],
    ['provenance', '  arch: amd64\n  provenance: mode=max\n', {}, 'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --provenance mode=max . 2>&1'],
    ['provenance false', '  arch: amd64\n  provenance: false\n', {}, 'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --provenance false . 2>&1'],
    ['sbom', '  arch: amd64\n  sbom: true\n', {}, 'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --sbom true . 2>&1'],
    ['sbom false', '  arch: amd64\n  sbom: false\n', {}, 'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --sbom false . 2>&1'],
    ['no cache', '  arch: amd64\n', { noCache: true }, 'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile --no-cache . 2>&1'],
  ])('%s', (_name, builder, options, expected) => {
    expect(buildStep(plan(builder, {}, options)).display).toBe(expected)
  })

  test('build options: ssh, target, dockerfile (Kamal: "--label service="app" --file Dockerfile --ssh default=$SSH_AUTH_SOCK")', () => {
    expect(buildStep(plan('  arch: amd64\n  ssh: default=$SSH_AUTH_SOCK\n')).display).toContain('--label service="app" --file Dockerfile --ssh default=$SSH_AUTH_SOCK . 2>&1')
    expect(buildStep(plan('  arch: amd64\n  target: prod\n')).display).toContain('--label service="app" --file Dockerfile --target prod . 2>&1')
    expect(buildStep(plan('  arch: amd64\n  dockerfile: Dockerfile.xyz\n')).display).toContain('--label service="app" --file Dockerfile.xyz . 2>&1')
  })

  test('registry cache (Kamal configuration tests)', () => {
    const options = 'mode=max,image-manifest=true,oci-mediatypes=true'
    expect(config(`  arch: amd64\n  cache: { type: registry, options: "${options}" }\n`).builder.cacheFrom).toBe('type=registry,ref=dhh/app-build-cache')
    expect(config(`  arch: amd64\n  cache: { type: registry, options: "${options}" }\n`).builder.cacheTo).toBe(`type=registry,ref=dhh/app-build-cache,${options}`)
    const custom = config(`  arch: amd64\n  cache: { type: registry, options: "${options}" }\n`, '').builder
    expect(custom.cacheFrom).toBe('type=registry,ref=dhh/app-build-cache')
    const server = configFromYaml(`${BASE.replace('password: secret', 'password: secret, server: registry.example.com')}builder:\n  arch: amd64\n  cache: { type: registry, options: "${options}" }\n`).builder
    expect(server.cacheFrom).toBe('type=registry,ref=registry.example.com/dhh/app-build-cache')
    expect(server.cacheTo).toBe(`type=registry,ref=registry.example.com/dhh/app-build-cache,${options}`)
    const image = config('  arch: amd64\n  cache: { type: registry, image: kamal, options: mode=max }\n').builder
    expect([image.cacheFrom, image.cacheTo]).toEqual(['type=registry,ref=kamal', 'type=registry,ref=kamal,mode=max'])
    expect(buildStep(plan('  arch: amd64\n  cache: { type: registry, image: kamal, options: mode=max }\n')).argv).toEqual(expect.arrayContaining(['--cache-to', 'type=registry,ref=kamal,mode=max', '--cache-from', 'type=registry,ref=kamal']))
  })

  test('gha cache: read options only on --cache-from; the runner cache variables passed by name', () => {
    const gha = config('  arch: amd64\n  cache: { type: gha, options: "mode=max,scope=test" }\n').builder
    expect([gha.cacheFrom, gha.cacheTo]).toEqual(['type=gha,scope=test', 'type=gha,mode=max,scope=test'])
    const step = buildStep(plan('  arch: amd64\n  cache: { type: gha }\n', { env: { ...FACTS.env, ACTIONS_RUNTIME_TOKEN: 'x' } }))
    expect(step.passEnv).toEqual(['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL', 'ACTIONS_CACHE_URL', 'ACTIONS_CACHE_SERVICE_V2'])
    expect(buildStep(plan('  arch: amd64\n')).passEnv).toBeUndefined()
  })

  test('argv is what the shell makes of the shown words: quotes removed, args real, $VAR expanded, no 2>&1', () => {
    const step = buildStep(plan('  arch: amd64\n  args: { a: 1, b: "x y" }\n  secrets: [TOKEN]\n  ssh: default=$SSH_AUTH_SOCK\n'))
    expect(step.argv).toEqual([
      'docker', 'buildx', 'build', '--output=type=registry', '--platform', 'linux/amd64', '--builder', 'kamal-local-docker-container',
      '-t', 'dhh/app:123', '-t', 'dhh/app:latest', '--label', 'service=app', '--build-arg', 'a=1', '--build-arg', 'b=x y',
      '--secret', 'id=TOKEN', '--file', 'Dockerfile', '--ssh', 'default=/run/agent.sock', '.',
    ])
    expect(step.secretEnv).toEqual(['TOKEN'])
    expect(step.display).not.toContain('x y')
  })

  test('buildCommand (the plan display) is the same build step', () => {
    expect(buildCommand(config('  arch: amd64\n  args: { a: 1 }\n'), { redactArgs: true })).toBe(buildStep(plan('  arch: amd64\n  args: { a: 1 }\n')).display)
  })

  test('evaluateShellWord: double quotes, single quotes, escapes, ${VAR}', () => {
    const env = { HOME: '/root' }
    expect(evaluateShellWord('a="1"', env)).toBe('a=1')
    expect(evaluateShellWord(`'host=ssh://x'`, env)).toBe('host=ssh://x')
    expect(evaluateShellWord('"\\$HOME ${HOME} \\"q\\" \\`"', env)).toBe('$HOME /root "q" `')
    expect(evaluateShellWord('path\\ with\\ spaces', env)).toBe('path with spaces')
  })
})

describe('builder setup: inspect, then remove and create when missing', () => {
  test('local: docker-container builder; the driver docker has none', () => {
    const steps = plan('  arch: amd64\n')
    expect(displays(steps, /builder/)).toEqual(['docker buildx rm kamal-local-docker-container', 'docker buildx create --name kamal-local-docker-container --driver=docker-container'])
    for (const step of steps.filter((item) => /builder/.test(item.purpose))) expect(step.skipIf?.argv).toEqual(['docker', 'buildx', 'inspect', 'kamal-local-docker-container'])
    expect(steps.find((step) => step.purpose === 'remove the builder')?.allowFailure).toBe(true)
    expect(displays(plan('  arch: amd64\n  driver: docker\n'), /builder/)).toEqual([])
    expect(buildStep(plan('  arch: amd64\n  driver: docker\n')).display).toBe('docker buildx build --output=type=registry --platform linux/amd64 -t dhh/app:123 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1')
  })

  test('local registry: network=host builder (Kamal\'s string), loaded into the runner\'s Docker', () => {
    const local = planBuild(configFromYaml('service: app\nimage: dhh/app\nregistry: { server: "localhost:5000" }\nservers: ["1.1.1.1"]\nbuilder: { arch: amd64 }\n', { version: '123' }), FACTS)
    expect(displays(local, /create the builder/)).toEqual(['docker buildx create --name kamal-local-registry-docker-container --driver=docker-container --driver-opt network=host'])
    expect(buildStep(local).argv.slice(0, 4)).toEqual(['docker', 'buildx', 'build', '--output=type=docker'])
    expect(local.some((step) => step.argv[1] === 'login')).toBe(false)
  })

  test('remote: context + buildx create over ssh:// (Kamal\'s `;` chain as two steps), Kamal\'s inspect pipeline', () => {
    const steps = plan('  arch: arm64\n  remote: ssh://app@1.1.1.5\n', { remoteSsh: { binDir: '/runner/temp/kamal-builder-ssh' } })
    expect(displays(steps, /create/).join(' ; ')).toBe(
      "docker context create kamal-remote-ssh---app-1-1-1-5-context --description 'kamal-remote-ssh---app-1-1-1-5 host' --docker 'host=ssh://app@1.1.1.5' ; docker buildx create --name kamal-remote-ssh---app-1-1-1-5 kamal-remote-ssh---app-1-1-1-5-context",
    )
    const context = steps.find((step) => step.purpose === 'create the builder context')
    expect(context?.argv).toEqual(['docker', 'context', 'create', 'kamal-remote-ssh---app-1-1-1-5-context', '--description', 'kamal-remote-ssh---app-1-1-1-5 host', '--docker', 'host=ssh://app@1.1.1.5'])
    expect(context?.skipIf?.display).toBe(
      "docker buildx inspect kamal-remote-ssh---app-1-1-1-5 | grep -q Endpoint:.*kamal-remote-ssh---app-1-1-1-5-context && docker context inspect kamal-remote-ssh---app-1-1-1-5-context --format '{{.Endpoints.docker.Host}}' | grep -xq ssh://app@1.1.1.5 || (echo no compatible builder && exit 1)",
    )
    expect(context?.skipIf?.argv.slice(0, 2)).toEqual(['sh', '-c'])
    expect(displays(steps, /remove/)).toEqual(['docker context rm kamal-remote-ssh---app-1-1-1-5-context', 'docker buildx rm kamal-remote-ssh---app-1-1-1-5'])
    const build = buildStep(steps)
    expect(build.env).toEqual({ PATH: '/runner/temp/kamal-builder-ssh:/usr/bin', BUILDKIT_NO_CLIENT_TOKEN: '1' })
    for (const step of steps.filter((item) => item.argv[0] === 'docker')) expect(step.env?.PATH).toBe('/runner/temp/kamal-builder-ssh:/usr/bin')
    // remote builders push themselves: no local docker login (Kamal's login_to_registry_locally? false)
    expect(steps.some((step) => step.argv[1] === 'login')).toBe(false)
  })

  test('hybrid: local node for the local arch, remote node appended (Kamal\'s && chain)', () => {
    const steps = plan('  arch: [amd64, arm64]\n  remote: ssh://app@1.1.1.5\n')
    expect(displays(steps, /create|append/).join(' && ')).toBe(
      "docker buildx create --platform linux/amd64 --name kamal-hybrid-docker-container-ssh---app-1-1-1-5 --driver=docker-container && docker context create kamal-hybrid-docker-container-ssh---app-1-1-1-5-context --description 'kamal-hybrid-docker-container-ssh---app-1-1-1-5 host' --docker 'host=ssh://app@1.1.1.5' && docker buildx create --platform linux/arm64 --append --name kamal-hybrid-docker-container-ssh---app-1-1-1-5 kamal-hybrid-docker-container-ssh---app-1-1-1-5-context",
    )
  })

  test('cloud: `--driver cloud ORG/NAME` as separate argv items, inspected by the builder name', () => {
    const steps = plan('  arch: amd64\n  driver: cloud docker-org-name/builder-name\n')
    const create = steps.find((step) => step.purpose === 'create the cloud builder')
    expect(create?.argv).toEqual(['docker', 'buildx', 'create', '--driver', 'cloud', 'docker-org-name/builder-name'])
    expect(create?.skipIf?.argv).toEqual(['docker', 'buildx', 'inspect', 'cloud-docker-org-name-builder-name'])
  })

  test('pack (Kamal\'s `pack build … && docker push … && docker push …`), secrets by name only', () => {
    const pack = '  arch: amd64\n  pack: { builder: "heroku/builder:24", buildpacks: [heroku/ruby, heroku/procfile] }\n'
    const steps = plan(pack)
    expect(steps.filter((step) => step.argv[0] === 'pack' && step.argv[1] === 'build' || step.argv[1] === 'push').map((step) => step.display).join(' && ')).toBe(
      'pack build dhh/app --platform linux/amd64 --creation-time now --builder heroku/builder:24 --buildpack heroku/ruby --buildpack heroku/procfile --buildpack paketo-buildpacks/image-labels -t dhh/app:123 -t dhh/app:latest --env BP_IMAGE_LABELS=service=app --path . && docker push dhh/app:123 && docker push dhh/app:latest',
    )
    expect(displays(steps, /inspect the buildpacks/)).toEqual(['pack builder inspect heroku/builder:24'])
    const withArgs = plan(`${pack}  args: { a: 1, b: 2 }\n  secrets: [token_a]\n`, {}, { noCache: true })
    const build = withArgs.find((step) => step.argv[1] === 'build')
    expect(build?.display).toContain('-t dhh/app:latest --clear-cache --env BP_IMAGE_LABELS=service=app --env a="1" --env b="2" --env token_a=[REDACTED] --path .')
    expect(build?.argv).toEqual(expect.arrayContaining(['--env', 'a=1', '--env', 'token_a']))
    expect(build?.secretEnv).toEqual(['token_a'])
    const refused = refusal(() => plan(pack, { pack: false }))
    expect(refused.message).toContain('`pack` CLI is not on the runner')
    expect(refused.location?.line).toBe(7)
  })
})

describe('login, clone, context and dockerfile', () => {
  test('docker login with the password on stdin (our deviation from Kamal\'s -p)', () => {
    const steps = plan('  arch: amd64\n', {}, { registryLogin: { username: 'dhh', shown: 'dhh' } })
    expect(steps[0]).toMatchObject({ purpose: 'log in to the registry', argv: ['docker', 'login', '-u', 'dhh', '--password-stdin'], display: 'docker login -u "dhh" --password-stdin', stdin: 'registry-password' })
  })

  test('git clone under the job temp dir (Kamal\'s clone and reset commands), the build inside the clone', () => {
    const steps = plan('  arch: amd64\n', { projectDir: '/work/repo/apps/web', git: { root: '/work/repo', revision: 'abc123' } })
    const clone = '/runner/temp/kamal-clones/app-' // + 13 hex of sha256(project dir)
    const cloneStep = steps.find((step) => step.purpose === 'clone the committed tree')
    expect(cloneStep?.display).toMatch(new RegExp(`^git -C ${clone}[0-9a-f]{13} clone /work/repo --recurse-submodules$`))
    const dir = cloneStep?.argv[2] ?? ''
    expect(steps.filter((step) => step.argv[0] === 'git' && step !== cloneStep).map((step) => step.display)).toEqual([
      `git -C ${dir}/repo/apps/web remote set-url origin /work/repo`,
      `git -C ${dir}/repo/apps/web fetch origin`,
      `git -C ${dir}/repo/apps/web reset --hard abc123`,
      `git -C ${dir}/repo/apps/web clean -fdx`,
      `git -C ${dir}/repo/apps/web submodule update --init`,
      `git -C ${dir}/repo/apps/web gc --auto --quiet`,
    ])
    expect(buildStep(steps).cwd).toBe(`${dir}/repo/apps/web`)
  })

  test('no .gitmodules at HEAD: the clone without --recurse-submodules and no `submodule update` (both would do nothing)', () => {
    const steps = plan('  arch: amd64\n', { projectDir: '/work/repo', git: { root: '/work/repo', revision: 'abc123', submodules: false } })
    const gitSteps = steps.filter((step) => step.argv[0] === 'git').map((step) => step.argv.slice(3).join(' '))
    expect(gitSteps[0]).toBe('clone /work/repo')
    expect(gitSteps.filter((words) => words.includes('submodule'))).toEqual([])
    const withModules = plan('  arch: amd64\n', { projectDir: '/work/repo', git: { root: '/work/repo', revision: 'abc123', submodules: true } })
    expect(withModules.filter((step) => step.argv[0] === 'git').map((step) => step.argv.slice(3).join(' ')).filter((words) => /submodule/.test(words))).toEqual(['clone /work/repo --recurse-submodules', 'submodule update --init'])
  })

  test('clone paths are shell-escaped in the display, plain in argv (Kamal: "path\\ with\\ spaces")', () => {
    const steps = plan('  arch: amd64\n', { projectDir: '/absolute/path with spaces', git: { root: '/absolute/path with spaces', revision: 'abc' } })
    const cloneStep = steps.find((step) => step.purpose === 'clone the committed tree')
    expect(cloneStep?.display).toContain('/absolute/path\\ with\\ spaces --recurse-submodules')
    expect(cloneStep?.argv).toContain('/absolute/path with spaces')
  })

  test('builder.context: no clone; context and --file are both relative to the project directory', () => {
    const steps = plan('  arch: amd64\n  context: web\n  dockerfile: web/Dockerfile\n')
    expect(steps.some((step) => step.argv[0] === 'git')).toBe(false)
    const build = buildStep(steps)
    expect(build.cwd).toBe('/work/app')
    expect(build.argv.slice(-3)).toEqual(['--file', 'web/Dockerfile', 'web'])
  })

  test('a missing Dockerfile is refused at builder.dockerfile', () => {
    const refused = refusal(() => plan('  arch: amd64\n  dockerfile: Dockerfile.xyz\n', { dockerfilePresent: false }))
    expect(refused.message).toMatch(/^Missing Dockerfile.xyz/)
    expect(refused.location?.line).toBe(7)
  })
})

describe('refused before anything runs, at the setting', () => {
  const noBuildx = { buildx: false }
  test.each([
    ['cache', '  arch: amd64\n  cache: { type: registry }\n', 7],
    ['several arches', '  arch: [amd64, arm64]\n', 6],
    ['another arch than the runner\'s', '  arch: arm64\n', 6],
    ['remote', '  arch: amd64\n  local: false\n  remote: ssh://app@host\n', 8],
    ['ssh', '  arch: amd64\n  ssh: default\n', 7],
    ['provenance', '  arch: amd64\n  provenance: mode=max\n', 7],
    ['sbom', '  arch: amd64\n  sbom: true\n', 7],
    ['secrets', '  arch: amd64\n  secrets: [TOKEN]\n', 7],
    ['cloud', '  arch: amd64\n  driver: cloud org/name\n', 7],
  ])('without buildx: %s', (_name, builder, line) => {
    const refused = refusal(() => plan(builder, noBuildx))
    expect(refused.message).toContain('needs docker buildx, which is not installed on the runner')
    expect(refused.location).toMatchObject({ file: 'config/deploy.yml', line })
  })

  test('without buildx, a plain build falls back to docker build + docker push of both tags', () => {
    const steps = plan('  arch: amd64\n  args: { a: 1 }\n  target: prod\n', noBuildx)
    expect(steps.filter((step) => step.argv[0] === 'docker').map((step) => step.display)).toEqual([
      'docker build -t dhh/app:123 -t dhh/app:latest --label service="app" --build-arg a=[REDACTED] --file Dockerfile --target prod .',
      'docker push dhh/app:123',
      'docker push dhh/app:latest',
    ])
    expect(steps.find((step) => step.argv[1] === 'build')?.env).toEqual({ DOCKER_BUILDKIT: '0' })
  })

  test('gha (or registry) cache with driver: docker: the docker driver cannot export a cache', () => {
    const refused = refusal(() => plan('  arch: amd64\n  driver: docker\n  cache: { type: gha }\n', { env: { ACTIONS_RUNTIME_TOKEN: 't' } }))
    expect(refused.message).toContain('the docker driver cannot export a build cache')
    expect(refused.location?.line).toBe(8)
  })

  test('gha cache outside GitHub Actions (no ACTIONS_RUNTIME_TOKEN, no token= option)', () => {
    expect(refusal(() => plan('  arch: amd64\n  cache: { type: gha }\n', { env: {} })).message).toContain('ACTIONS_RUNTIME_TOKEN')
    expect(() => plan('  arch: amd64\n  cache: { type: gha, options: "url=http://c,token=t" }\n', { env: {} })).not.toThrow()
  })

  test('registry-free deploys: two arches and remote builders are refused', () => {
    const free = (builder: string) => () => planBuild(configFromYaml(`service: app\nimage: dhh/app\nregistry: { server: "localhost:5000" }\nservers: ["1.1.1.1"]\nbuilder:\n${builder}`), FACTS)
    expect(refusal(free('  arch: [amd64, arm64]\n')).message).toContain('one platform per tag')
    expect(refusal(free('  arch: arm64\n  remote: ssh://app@host\n')).message).toContain('would leave the image on the builder host')
  })

  test('pack ignores Dockerfile settings: refused rather than ignored', () => {
    const refused = refusal(() => plan('  arch: amd64\n  pack: { builder: b }\n  target: prod\n'))
    expect(refused.message).toContain('builder.target has no effect on a buildpacks build')
  })
})
