import { InputError, ConfigError } from '../../src/errors'
import { imageDigest } from '../../src/plan/commands/build'
import { buildPlan, type PlanRequest } from '../../src/plan/deploy-plan'
import { describeStep } from '../../src/plan/render'
import { RUNNER, walkPlan, type Plan, type Step } from '../../src/plan/steps'
import { selectTargets } from '../../src/plan/targets'
import type { HookName } from '../../src/hooks'
import { configFromYaml } from '../support/config'

const YAML = `
service: shop
image: acme/shop
registry: { server: registry.test, username: deployer, password: [KAMAL_REGISTRY_PASSWORD] }
servers:
  web: [vm1, vm2]
  workers: { hosts: [vm2], cmd: bin/jobs }
proxy: { host: shop.test }
env: { clear: { RAILS_ENV: production } }
volumes: ["/data:/data"]
`

function planFor(overrides: Partial<PlanRequest>, { yaml = YAML, version = '999', roles = [] as string[] } = {}): Plan {
  const config = configFromYaml(yaml, { version })
  return buildPlan(config, selectTargets(config, { roles, hosts: [] }), {
    command: 'app',
    skipPush: false,
    performer: 'ci@example.com',
    registryUser: 'deployer',
    hooks: new Set(),
    build: [],
    accessories: [],
    now: () => new Date('2026-01-01T00:00:00Z'),
    ...overrides,
  })
}

const stepsOn = (plan: Plan, place: string, title?: string): Step[] =>
  [...walkPlan(plan)].filter(({ lane, stage, failureStep }) => lane.place === place && !failureStep && (title === undefined || stage.title === title)).map(({ step }) => step)
const commandsOf = (steps: Step[]): string[] => steps.flatMap((step) => ('command' in step ? [step.command] : []))
const titles = (plan: Plan) => plan.stages.map((stage) => stage.title)

describe('app exec', () => {
  test('a new container of the latest tag on every selected host and role: audit, then the streamed docker run --rm', () => {
    const plan = planFor({ subcommand: 'exec', commandLine: 'bin/rails db:migrate', explicitVersion: false }, { version: 'latest' })
    expect(titles(plan)).toEqual(['Connect', 'Registry login', 'Exec in a new container'])
    const vm2 = stepsOn(plan, 'vm2', 'Exec in a new container')
    expect(vm2.map((step) => step.kind)).toEqual(['exec', 'stream', 'exec', 'stream'])
    expect(commandsOf(vm2)[0]).toContain("Executed cmd 'bin/rails db:migrate' on app version latest")
    expect(commandsOf(vm2)[1]).toBe(
      'docker run --rm --name shop-web-exec-latest-[[kda:exec_hex]] --network kamal --env RAILS_ENV="production" --env-file .kamal/apps/shop/env/roles/web.env --log-opt max-size="10m" --volume /data:/data registry.test/acme/shop:latest bin/rails db:migrate',
    )
    expect(commandsOf(vm2)[3]).toContain('--name shop-workers-exec-latest-')
    expect(plan.stages.some((stage) => stage.title.includes('lock'))).toBe(false)
  })

  test('--detach keeps the container; --roles limits the hosts', () => {
    const plan = planFor({ subcommand: 'exec', commandLine: 'bin/jobs', options: { detach: true } }, { roles: ['workers'] })
    expect(plan.hosts).toEqual(['vm2'])
    expect(commandsOf(stepsOn(plan, 'vm2', 'Exec in a new container'))[1]).toMatch(/^docker run --detach --name shop-workers-exec-999-/)
  })

  test("--reuse: the primary host's running version for every host, then docker exec in that container", () => {
    const plan = planFor({ subcommand: 'exec', commandLine: 'uname -a', options: { reuse: true }, explicitVersion: false })
    expect(titles(plan)).toEqual(['Connect', 'Get current version of running container', 'Exec in the running container'])
    const [share] = stepsOn(plan, 'vm1', 'Get current version of running container')
    expect(share).toMatchObject({ kind: 'share', name: 'running_version', fallback: '999' })
    expect(commandsOf(stepsOn(plan, 'vm2', 'Exec in the running container'))).toEqual([
      expect.stringContaining("[ci@example.com] [web] Executed cmd 'uname -a' on app version [[kda:running_version]]"),
      'docker exec shop-web-[[kda:running_version]] uname -a',
      expect.stringContaining('[workers] Executed cmd'),
      'docker exec shop-workers-[[kda:running_version]] uname -a',
    ])
    const explicit = planFor({ subcommand: 'exec', commandLine: 'uname', options: { reuse: true }, explicitVersion: true }, { version: 'v3' })
    expect(commandsOf(stepsOn(explicit, 'vm1', 'Exec in the running container'))[1]).toBe('docker exec shop-web-v3 uname')
  })
})

describe('read-only app commands', () => {
  test('logs: the running container of each role, 100 lines by default, "Nothing found" when there is none', () => {
    const plan = planFor({ subcommand: 'logs', options: {} })
    const [show] = stepsOn(plan, 'vm1', 'App logs')
    expect(show).toMatchObject({ kind: 'show', heading: 'App Host: vm1', otherwise: 'Nothing found', changes: false })
    expect((show as { command: string }).command).toMatch(/^sh -c 'docker ps --latest --quiet .*' \| head -1 \| xargs docker logs --timestamps --tail 100 2>&1$/)
    const grep = planFor({ subcommand: 'logs', options: { grep: 'ERROR', grepOptions: '-i', skipTimestamps: true, containerId: 'abc' } })
    expect(commandsOf(stepsOn(grep, 'vm1', 'App logs'))[0]).toBe("sh -c 'echo abc' | xargs docker logs 2>&1 | grep 'ERROR' -i")
  })

  test('details, containers, version, audit: one show step per host (and role), nothing that changes a host', () => {
    expect(commandsOf(stepsOn(planFor({ subcommand: 'details' }), 'vm2', 'App details'))).toEqual([
      'docker ps --filter label=service=shop --filter label=destination= --filter label=role=web',
      'docker ps --filter label=service=shop --filter label=destination= --filter label=role=workers',
    ])
    expect(commandsOf(stepsOn(planFor({ subcommand: 'containers' }), 'vm2', 'App containers'))).toEqual(['docker container ls --all --filter label=service=shop --filter label=destination='])
    expect(commandsOf(stepsOn(planFor({ command: 'audit' }), 'vm1', 'Audit log'))).toEqual(['tail -n 50 .kamal/shop-audit.log'])
    for (const plan of [planFor({ subcommand: 'logs' }), planFor({ subcommand: 'details' }), planFor({ subcommand: 'version' }), planFor({ command: 'audit' })]) {
      expect([...walkPlan(plan)].filter(({ step }) => step.changes)).toEqual([])
    }
  })
})

describe('remove -y', () => {
  test('refused without confirmation, before any stage exists', () => {
    expect(() => planFor({ command: 'remove' })).toThrow(InputError)
    expect(() => planFor({ command: 'remove' })).toThrow("Input 'confirm': remove asks \"This will remove all containers and images. Are you sure?\"")
  })

  test("Kamal's order under the lock: app (stop, containers, images, directories), proxy unless other apps, registry logout", () => {
    const plan = planFor({ command: 'remove', confirm: true })
    expect(titles(plan)).toEqual([
      'Connect', 'Prepare', 'Acquire deploy lock',
      'Stop app', 'Remove app containers', 'Remove app images', 'Remove app directories',
      'Other apps on the proxy hosts', 'Stop proxy', 'Remove proxy container', 'Remove proxy image', 'Remove proxy directory',
      'Registry logout', 'Release deploy lock',
    ])
    const vm1 = commandsOf(stepsOn(plan, 'vm1'))
    for (const expected of [
      'docker exec kamal-proxy kamal-proxy remove shop-web',
      'docker container prune --force --filter label=service=shop --filter label=destination= --filter label=role=web',
      'docker image prune --all --force --filter label=service=shop',
      'rm -r .kamal/apps/shop',
      'rm -r .kamal/proxy/apps-config/shop',
      'ls .kamal/apps | wc -l',
      'docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy',
      'docker image prune --all --force --filter label=org.opencontainers.image.title=kamal-proxy',
      'rm -r .kamal/proxy',
      'docker logout registry.test',
    ]) expect(vm1).toContain(expected)
    const proxySteps = stepsOn(plan, 'vm1', 'Remove proxy image')
    expect(proxySteps.every((step) => step.unless === 'other_apps')).toBe(true)
  })

  test('images and directories only where every role of the host is removed', () => {
    const plan = planFor({ command: 'remove', confirm: true }, { roles: ['workers'] })
    expect(stepsOn(plan, 'vm2', 'Remove app images')).toEqual([])
  })
})

describe('proxy reboot', () => {
  const hooks = new Set<HookName>(['pre-proxy-reboot', 'post-proxy-reboot'])

  test('refused without confirmation', () => {
    expect(() => planFor({ command: 'proxy', subcommand: 'reboot' })).toThrow("Input 'confirm': proxy reboot asks \"This will cause a brief outage on each host. Are you sure?\"")
  })

  test('--rolling: one host at a time, each between its own pre/post-proxy-reboot hooks', () => {
    const plan = planFor({ command: 'proxy', subcommand: 'reboot', confirm: true, options: { rolling: true }, hooks })
    const middle = titles(plan).slice(3, -1)
    expect(middle).toEqual([
      'Hook pre-proxy-reboot', 'Reboot kamal-proxy (1 of 2: vm1)', 'Hook post-proxy-reboot',
      'Hook pre-proxy-reboot', 'Reboot kamal-proxy (2 of 2: vm2)', 'Hook post-proxy-reboot',
    ])
    const hookHosts = plan.stages.filter((stage) => stage.title.startsWith('Hook')).map((stage) => (stage.lanes[0].units[0].steps[0] as { hosts: string[] }).hosts)
    expect(hookHosts).toEqual([['vm1'], ['vm1'], ['vm2'], ['vm2']])
    const reboot = commandsOf(stepsOn(plan, 'vm2', 'Reboot kamal-proxy (2 of 2: vm2)'))
    expect(reboot.slice(1, 5)).toEqual([
      'docker login registry.test -u "deployer" --password-stdin',
      'docker container stop kamal-proxy',
      'docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy',
      'mkdir -p .kamal/proxy/apps-config',
    ])
    expect(reboot[5]).toMatch(/^echo .* \| xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/)
  })

  test('without --rolling all hosts at once, as Kamal', () => {
    const plan = planFor({ command: 'proxy', subcommand: 'reboot', confirm: true, hooks })
    const stage = plan.stages.find((item) => item.title === 'Reboot kamal-proxy')
    expect(stage?.lanes.map((lane) => lane.place)).toEqual(['vm1', 'vm2'])
  })
})

describe('build push', () => {
  const build = [{ kind: 'runner' as const, purpose: 'build and push the image', argv: ['docker', 'build', '.'], display: 'docker build .', cwd: '/tmp', changes: true }]

  test('only the runner: hooks, the build, then the digest; no host is connected', () => {
    const plan = planFor({ command: 'build', subcommand: 'push', build, digest: { kind: 'digest', argv: ['docker', 'image', 'inspect'], display: 'docker image inspect', cwd: '/tmp', image: 'x', changes: false }, hooks: new Set<HookName>(['pre-build']) })
    expect(titles(plan)).toEqual(['Hook pre-build', 'Build and push', 'Image digest'])
    expect(plan.stages.every((stage) => stage.lanes.every((lane) => lane.place === RUNNER))).toBe(true)
  })

  test('a local registry is refused at registry.server: a later job could not pull the image', () => {
    const yaml = YAML.replace('server: registry.test, username: deployer, password: [KAMAL_REGISTRY_PASSWORD]', 'server: localhost:5555')
    let error: unknown
    try {
      planFor({ command: 'build', subcommand: 'push', build }, { yaml })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).location).toMatchObject({ file: 'config/deploy.yml', line: 4 })
  })

  test('the digest of the pushed image, from either inspect format', () => {
    const digest = `sha256:${'ab'.repeat(32)}`
    expect(imageDigest(`["other/repo@sha256:${'00'.repeat(32)}","registry.test/acme/shop@${digest}"]`, 'registry.test/acme/shop:999')).toBe(digest)
    expect(imageDigest(`{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"${digest}","size":856}`, 'x:1')).toBe(digest)
    expect(imageDigest('[]', 'x:1')).toBeUndefined()
  })
})

describe('the other commands', () => {
  test('lock acquire keeps the lock: no release stage', () => {
    const plan = planFor({ command: 'lock', subcommand: 'acquire', options: { message: 'DB work' } })
    expect(titles(plan)).toEqual(['Connect', 'Prepare', 'Acquire deploy lock'])
    expect(stepsOn(plan, 'vm1', 'Acquire deploy lock')[0]).toMatchObject({ kind: 'lock', message: 'DB work' })
  })

  test('app stop takes the role off kamal-proxy only when a container runs, under the lock', () => {
    const plan = planFor({ subcommand: 'stop' })
    expect(titles(plan)).toEqual(['Connect', 'Prepare', 'Acquire deploy lock', 'Stop app', 'Release deploy lock'])
    const remove = stepsOn(plan, 'vm1', 'Stop app').find((step) => 'command' in step && step.command.includes('kamal-proxy remove'))
    expect(remove?.when).toBe('container_id')
  })

  test('server exec streams the command on every host after its audit line; the plan shows where output goes', () => {
    const plan = planFor({ command: 'server', subcommand: 'exec', commandLine: 'uptime' })
    const steps = stepsOn(plan, 'vm2', 'Server exec')
    expect(steps[1]).toMatchObject({ kind: 'stream', command: 'uptime', heading: 'App Host: vm2', prefixLines: true })
    expect(describeStep(steps[1])).toEqual(['uptime  # output shown under "App Host: vm2"'])
  })

  test('app boot is the boot of deploy under the lock', () => {
    const plan = planFor({ subcommand: 'boot' }, { version: 'latest' })
    expect(titles(plan)).toEqual(expect.arrayContaining(['Acquire deploy lock', 'Boot app', 'Release deploy lock']))
    expect(commandsOf(stepsOn(plan, 'vm1', 'Boot app')).some((command) => command.includes('--name shop-web-latest'))).toBe(true)
  })
})
