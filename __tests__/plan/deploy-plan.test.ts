import { buildPlan, type PlanRequest } from '../../src/plan/deploy-plan'
import { planRequest } from '../support/plan-request'
import { checkRecordAgainstPlan } from '../../src/plan/conformance'
import { describeStep } from '../../src/plan/render'
import { RUNNER, uploadLine, walkPlan, type Plan } from '../../src/plan/steps'
import { selectTargets } from '../../src/plan/targets'
import type { RecordEntry } from '../../src/execute/record'
import { scheduleNodes, type ScheduledNode } from '../../src/execute/executor'
import { fillPlaceholders } from '../../src/execute/placeholders'
import { configFromYaml } from '../support/config'

const YAML = `
service: shop
image: acme/shop
registry: { server: registry.test, username: deployer, password: [KAMAL_REGISTRY_PASSWORD] }
servers:
  web: [vm1, vm2]
  workers: { hosts: [vm3], cmd: bin/jobs }
proxy: { host: shop.test }
`

const request = planRequest

function planFor(overrides: Partial<PlanRequest> = {}, yaml = YAML): Plan {
  const config = configFromYaml(yaml)
  return buildPlan(config, selectTargets(config, { roles: [], hosts: [] }), request(overrides))
}

const titles = (plan: Plan, place: string) => plan.stages.filter((stage) => stage.lanes.some((lane) => lane.place === place)).map((stage) => stage.title)

describe('the deploy plan', () => {
  test('stages in Kamal order on the primary host; build only on the runner', () => {
    const plan = planFor()
    expect(titles(plan, 'vm1')).toEqual(['Connect', 'Prepare', 'Acquire deploy lock', 'Ensure kamal-proxy', 'Stale containers', 'Before boot', 'Registry login', 'Pull image', 'Stop stale containers', 'Boot app', 'Tag latest image', 'Prune', 'Release deploy lock'])
    expect(titles(plan, RUNNER)).toEqual(['Build and push'])
    // the latest tag (its audit line first), then the prune in Kamal's order with its audit lines: one exec each
    const execOf = (title: string) => {
      const steps = plan.stages.find((stage) => stage.title === title)!.lanes.find((lane) => lane.place === 'vm1')!.units[0].steps
      expect(steps).toHaveLength(1)
      return steps[0].kind === 'exec' ? steps[0].command : ''
    }
    const inOrder = (command: string, parts: string[]) => {
      const order = parts.map((part) => command.indexOf(part))
      expect(order.every((at) => at >= 0)).toBe(true)
      expect([...order].sort((a, b) => a - b)).toEqual(order)
    }
    inOrder(execOf('Tag latest image'), ['as the latest image', 'docker tag '])
    inOrder(execOf('Prune'), ['Pruned containers', 'Pruned images', 'docker image prune'])
  })

  test('the lock and its release happen on the primary host only; no proxy on the worker host', () => {
    const plan = planFor()
    expect(titles(plan, 'vm2')).not.toContain('Acquire deploy lock')
    expect(titles(plan, 'vm3')).not.toContain('Ensure kamal-proxy')
    expect(titles(plan, 'vm3')).not.toContain('Release deploy lock')
  })

  test('a host without kamal-proxy creates the network; on a proxy host only a kamal-proxy found not running does', () => {
    const plan = planFor()
    const stepsOf = (title: string, place: string) => plan.stages.filter((stage) => stage.title === title).flatMap((stage) => stage.lanes.filter((lane) => lane.place === place).flatMap((lane) => lane.units.flatMap((unit) => unit.steps)))
    const networkOf = (title: string, place: string) => stepsOf(title, place).filter((step) => step.kind === 'exec' && step.command === 'docker network create kamal')
    expect(networkOf('Network', 'vm3')).toEqual([expect.objectContaining({ tolerate: 'already exists' })])
    expect(networkOf('Network', 'vm3')[0]).not.toHaveProperty('unless')
    expect(networkOf('Ensure kamal-proxy', 'vm1')).toEqual([expect.objectContaining({ unless: 'proxy_running', tolerate: 'already exists' })])
    expect(stepsOf('Ensure kamal-proxy', 'vm1')[0]).toMatchObject({ kind: 'proxy-version', running: 'proxy_running' })
  })

  test('before the lock, hosts get only the connection and `mkdir -p .kamal`; everything else that changes a host waits for it', () => {
    const plan = planFor()
    const nodes = scheduleNodes(plan.stages)
    const lock = nodes.find((node) => node.stage.title === 'Acquire deploy lock')!
    const waitsFor = (node: ScheduledNode, target: ScheduledNode): boolean => node.after.some((before) => before === target || waitsFor(before, target))
    const changing = nodes.filter((node) => node.lane && node.lane.place !== RUNNER && node !== lock && node.lane.units.some((unit) => unit.steps.some((step) => step.changes)))
    const unlocked = changing.filter((node) => !waitsFor(node, lock)).map((node) => `${node.stage.title} on ${node.lane?.place}`)
    expect(new Set(unlocked)).toEqual(new Set(['Prepare on vm1', 'Prepare on vm2', 'Prepare on vm3']))
  })

  test('the runner builds while the hosts connect, lock and set up kamal-proxy; each host pulls once the image is pushed, then goes on alone', () => {
    const nodes = scheduleNodes(planFor().stages)
    const node = (title: string, place: string) => nodes.find((item) => item.stage.title === title && item.lane?.place === place)!
    const waitsFor = (item: ScheduledNode, target: ScheduledNode): boolean => item.after.some((before) => before === target || waitsFor(before, target))
    const build = node('Build and push', RUNNER)
    for (const place of ['vm1', 'vm2', 'vm3']) {
      expect(waitsFor(node('Stale containers', place), build)).toBe(false)
      expect(waitsFor(node('Pull image', place), build)).toBe(true)
    }
    expect(waitsFor(node('Ensure kamal-proxy', 'vm2'), node('Acquire deploy lock', 'vm1'))).toBe(true)
    // The web hosts tag and prune without waiting for the worker host's boot.
    expect(waitsFor(node('Tag latest image', 'vm1'), node('Boot app', 'vm3'))).toBe(false)
    expect(waitsFor(node('Prune', 'vm1'), node('Boot app', 'vm3'))).toBe(false)
    expect(waitsFor(node('Release deploy lock', 'vm1'), node('Prune', 'vm3'))).toBe(true)
    // A host tags once its boot is done, beside the old container's stop; it prunes after the tag and (at run time) the stop.
    expect(waitsFor(node('Tag latest image', 'vm1'), node('Boot app', 'vm1'))).toBe(true)
    expect(node('Tag latest image', 'vm1').stage.besideBackground).toBe(true)
    expect(waitsFor(node('Prune', 'vm1'), node('Tag latest image', 'vm1'))).toBe(true)
    expect(node('Prune', 'vm1').stage.besideBackground).toBeUndefined()
  })

  test("a stage's needs name stages before it: a need on a later stage is a plan error, one on a stage this plan lacks is met", () => {
    const stages = planFor().stages
    const pull = stages.findIndex((stage) => stage.title === 'Pull image')
    const build = stages.findIndex((stage) => stage.id === 'build')
    expect(stages[pull].needs).toContain('build')
    expect(scheduleNodes(stages.filter((_, index) => index !== build)).some((node) => node.stage.title === 'Pull image')).toBe(true)
    const reordered = [...stages.filter((_, index) => index !== build), stages[build]]
    expect(() => scheduleNodes(reordered)).toThrow('stage "Pull image" needs "build", which comes after it')
  })

  test('the stale check keeps the running version for the boot; Before boot waits for it and asks again only after a rename', () => {
    const plan = planFor()
    const nodes = scheduleNodes(plan.stages)
    const node = (title: string, place: string) => nodes.find((item) => item.stage.title === title && item.lane?.place === place)!
    const waitsFor = (item: ScheduledNode, target: ScheduledNode): boolean => item.after.some((before) => before === target || waitsFor(before, target))
    for (const place of ['vm1', 'vm3']) {
      const [stale] = node('Stale containers', place).lane!.units[0].steps
      expect(stale).toMatchObject({ kind: 'stale', currentInto: 'old_version' })
      expect(waitsFor(node('Before boot', place), node('Stale containers', place))).toBe(true)
      const steps = node('Before boot', place).lane!.units[0].steps
      const clash = steps.find((step) => step.kind === 'clash')!
      const again = steps.find((step) => step.kind === 'exec' && step.capture === 'old_version')!
      expect(clash).toMatchObject({ renamedInto: 'clash_renamed' })
      expect(again).toMatchObject({ when: 'clash_renamed' })
      expect(steps.indexOf(clash)).toBeLessThan(steps.indexOf(again))
    }
  })

  test('stale containers are found under the lock while the runner builds, and stopped only once the build is done and the host has pulled, before its boot', () => {
    const plan = planFor()
    const nodes = scheduleNodes(plan.stages)
    const node = (title: string, place: string) => nodes.find((item) => item.stage.title === title && item.lane?.place === place)!
    const waitsFor = (item: ScheduledNode, target: ScheduledNode): boolean => item.after.some((before) => before === target || waitsFor(before, target))
    const build = node('Build and push', RUNNER)
    for (const place of ['vm1', 'vm2', 'vm3']) {
      const [survey] = node('Stale containers', place).lane!.units[0].steps
      expect(survey).toMatchObject({ kind: 'stale', staleInto: 'stale_versions', changes: false })
      // behind kamal-proxy, the version it routes to is asked when a stale one is found; the worker has no proxy
      if (place === 'vm3') expect(survey).toHaveProperty('serving', undefined)
      else expect(survey).toMatchObject({ serving: { service: 'shop-web', containerPrefix: 'shop-web', command: expect.stringContaining('kamal-proxy list') } })
      expect(waitsFor(node('Stale containers', place), build)).toBe(false)
      const stop = node('Stop stale containers', place)
      expect(stop.lane!.units.map((unit) => unit.steps[0])).toEqual([expect.objectContaining({ kind: 'stop-stale', versionsFrom: 'stale_versions', stop: expect.stringContaining('docker stop') })])
      expect(waitsFor(stop, build)).toBe(true)
      expect(waitsFor(stop, node('Pull image', place))).toBe(true)
      expect(waitsFor(stop, node('Stale containers', place))).toBe(true)
      expect(waitsFor(node('Boot app', place), stop)).toBe(true)
    }
    // setup (not pipelined) keeps one stale step that finds and stops, after the build as a barrier stage
    const setup = buildPlan(configFromYaml(YAML), selectTargets(configFromYaml(YAML), { roles: [], hosts: [] }), request({ command: 'setup' }))
    expect(setup.stages.some((stage) => stage.title === 'Stop stale containers')).toBe(false)
    const [setupStale] = setup.stages.find((stage) => stage.title === 'Stale containers')!.lanes[0].units[0].steps
    expect(setupStale).toMatchObject({ kind: 'stale', changes: true })
    expect(setupStale).not.toHaveProperty('staleInto', expect.anything())
  })

  test('app boot, without a stale check, asks for the running version itself', () => {
    const plan = planFor({ command: 'app', subcommand: 'boot' })
    const boot = plan.stages.find((stage) => stage.title === 'Boot app')!
    const asks = boot.lanes.flatMap((lane) => lane.units.flatMap((unit) => unit.steps.filter((step) => step.kind === 'exec' && step.capture === 'old_version')))
    expect(asks.length).toBeGreaterThan(0)
    expect(asks.every((step) => step.when === undefined)).toBe(true)
    expect(plan.stages.some((stage) => stage.title === 'Stale containers')).toBe(false)
  })

  test('hooks and boot groups keep their barriers', () => {
    const withHooks = scheduleNodes(planFor({ hooks: new Set(['pre-deploy', 'pre-app-boot']) }).stages)
    const waitsFor = (item: ScheduledNode, target: ScheduledNode): boolean => item.after.some((before) => before === target || waitsFor(before, target))
    const hook = withHooks.find((node) => node.stage.title === 'Hook pre-deploy')!
    expect(hook.barrier).toBe(true)
    const build = withHooks.find((node) => node.stage.title === 'Build and push')!
    expect(waitsFor(hook, build)).toBe(true)
    for (const node of withHooks.filter((item) => ['Network', 'Ensure kamal-proxy', 'Boot app'].includes(item.stage.title))) expect(waitsFor(node, hook)).toBe(true)
    const grouped = planFor({}, `${YAML}boot: { limit: 1 }\n`).stages.filter((stage) => stage.phase === 'boot')
    expect(grouped.length).toBeGreaterThan(1)
    expect(grouped.every((stage) => stage.sync === undefined)).toBe(true)
  })

  test('the worker waits for the web barrier; web boots open it', () => {
    const plan = planFor()
    const boot = plan.stages.find((stage) => stage.title === 'Boot app')!
    const worker = boot.lanes.find((lane) => lane.place === 'vm3')!.units[0]
    const web = boot.lanes.find((lane) => lane.place === 'vm1')!.units[0]
    expect(worker.steps.map((step) => step.kind)).toContain('barrier-wait')
    expect(worker.steps.map((step) => step.kind)).toContain('health')
    expect(web.steps.map((step) => step.kind)).toContain('barrier-open')
    expect(web.steps.findIndex((step) => step.kind === 'barrier-open')).toBeGreaterThan(web.steps.findIndex((step) => step.kind === 'exec' && step.label === 'kamal-proxy deploy'))
  })

  test('hooks appear only where their files exist, at Kamal points', () => {
    const plan = planFor({ hooks: new Set(['pre-connect', 'pre-build', 'pre-deploy', 'post-deploy']) })
    expect(titles(plan, RUNNER)).toEqual(['Hook pre-connect', 'Hook pre-build', 'Build and push', 'Hook pre-deploy', 'Hook post-deploy'])
    expect(plan.stages.find((stage) => stage.title === 'Hook post-deploy')?.onSuccessOnly).toBe(true)
  })

  test('redeploy never builds; rollback neither builds nor pulls, and locks first', () => {
    expect(titles(planFor({ command: 'redeploy', skipPush: true, build: [] }), RUNNER)).toEqual([])
    const rollback = planFor({ command: 'rollback', build: [] })
    expect(titles(rollback, 'vm1').slice(0, 4)).toEqual(['Connect', 'Prepare', 'Acquire deploy lock', 'Check rollback version'])
    expect(titles(rollback, 'vm1')).not.toContain('Pull image')
  })

  test('no step shows a secret value; the password goes on stdin', () => {
    const plan = planFor()
    const login = [...walkPlan(plan)].find(({ stage, step }) => stage.title === 'Registry login' && step.kind === 'exec' && step.label === 'docker login')!.step
    expect(login).toMatchObject({ stdin: { registryPassword: true } })
    const shown = describeStep(login).join('\n')
    expect(shown).toMatch(/^docker login registry\.test -u "deployer" --password-stdin && .*Pulled image with version 999.* # password on stdin/)
  })

  test('boot.limit splits the boot into groups, each its own stage in order', () => {
    const plan = planFor({}, `${YAML}\nboot: { limit: 1, wait: 2 }\n`)
    expect(plan.stages.filter((stage) => stage.phase === 'boot').map((stage) => stage.title)).toEqual([
      'Boot app (group 1 of 3)', 'Wait 2s (boot.wait)', 'Boot app (group 2 of 3)', 'Wait 2s (boot.wait)', 'Boot app (group 3 of 3)', 'Wait 2s (boot.wait)',
    ])
  })
})

describe('checkRecordAgainstPlan', () => {
  /** A record as the executor would write it when every step succeeds and no old version runs. */
  function perfectRecord(plan: Plan): RecordEntry[] {
    const entries: RecordEntry[] = []
    let index = 0
    for (const { stage, lane, unit, step, failureStep } of walkPlan(plan)) {
      const at = index++
      // (no stale version: a stop-stale step runs no command)
      if (failureStep || step.when || step.kind === 'barrier-open' || step.kind === 'stop-stale') continue
      const base = { step: at, stage: stage.title, place: lane.place, role: unit.role, kind: step.kind, outcome: 'ok' as const, startedAt: 0, endedAt: 0 }
      const values = new Map([['container_id', 'abc'], ['lock_details', 'TG9jaw==']])
      const fill = (command: string) => fillPlaceholders(command, values, () => 'secret')
      if (step.kind === 'exec' || step.kind === 'health' || step.kind === 'proxy-version') entries.push({ ...base, command: fill(step.command) })
      else if (step.kind === 'lock') entries.push({ ...base, command: fill(step.command) })
      else if (step.kind === 'stale') entries.push({ ...base, command: step.survey })
      else if (step.kind === 'clash') entries.push({ ...base, command: step.find })
      else if (step.kind === 'upload') entries.push({ ...base, command: uploadLine(step) })
      else if (step.kind === 'runner') entries.push({ ...base, command: step.display })
      else entries.push({ ...base, command: step.kind })
    }
    return entries
  }

  test('a record that follows the plan has no drift', () => {
    const plan = planFor()
    expect(checkRecordAgainstPlan(plan, perfectRecord(plan))).toEqual([])
  })

  test('a command that differs from its step, a missing step, and a step out of order are each found', () => {
    const plan = planFor()
    const record = perfectRecord(plan)
    const run = record.findIndex((entry) => / docker run /.test(entry.command) && entry.place === 'vm1')
    const changed = record.map((entry, index) => (index === run ? { ...entry, command: entry.command.replace('--network kamal', '--network host') } : entry))
    expect(checkRecordAgainstPlan(plan, changed).map((drift) => drift.problem)).toEqual(["command differs from the plan's exec step"])

    const upload = record.findIndex((entry) => entry.stage === 'Before boot' && entry.place === 'vm2' && entry.kind === 'upload')
    expect(checkRecordAgainstPlan(plan, record.filter((_, index) => index !== upload)).map((drift) => drift.problem)).toEqual([expect.stringMatching(/^planned upload step on vm2 \(Before boot\) did not run$/)])

    const swapped = [...record]
    ;[swapped[upload - 1], swapped[upload]] = [swapped[upload], swapped[upload - 1]]
    expect(checkRecordAgainstPlan(plan, swapped).map((drift) => drift.problem)).toContain('ran out of plan order')
  })

  test('a step started alongside the next one may be recorded after it, and only after that one', () => {
    const runner = (display: string, extra = {}) => ({ kind: 'runner' as const, purpose: display, argv: display.split(' '), display, cwd: '/tmp', changes: true, ...extra })
    const plan = planFor({ build: [runner('docker login', { alongsideNext: true }), runner('git clone'), runner('docker build .'), runner('docker push')] })
    const record = perfectRecord(plan)
    const at = (display: string) => record.findIndex((entry) => entry.command === display)
    const swap = (first: number, second: number) => record.map((entry, index) => (index === first ? record[second] : index === second ? record[first] : entry))
    expect(checkRecordAgainstPlan(plan, swap(at('docker login'), at('git clone')))).toEqual([])
    expect(checkRecordAgainstPlan(plan, swap(at('git clone'), at('docker build .'))).map((drift) => drift.problem)).toEqual(['ran out of plan order'])
    const loginLast = [...record.filter((entry) => entry.command !== 'docker login'), record[at('docker login')]]
    expect(checkRecordAgainstPlan(plan, loginLast).map((drift) => drift.problem)).toEqual(['ran out of plan order'])
  })
})

describe('all-or-nothing', () => {
  const bootUnits = (plan: Plan) => plan.stages.filter((stage) => stage.title.startsWith('Boot app')).flatMap((stage) => stage.lanes.flatMap((lane) => lane.units))

  test('every boot waits for all to be healthy before its old container stops; a healthy host that must go back switches kamal-proxy to the old container, then stops the new one', () => {
    const plan = planFor({ allOrNothing: true })
    for (const unit of bootUnits(plan)) {
      const kinds = unit.steps.map((step) => step.kind)
      const wait = kinds.indexOf('all-healthy')
      const stop = unit.steps.findIndex((step) => step.kind === 'exec' && step.when === 'old_version' && /docker stop/.test(step.command))
      expect(wait).toBeGreaterThan(-1)
      expect(stop).toBeGreaterThan(wait)
    }
    const web = bootUnits(plan).find((unit) => unit.role === 'web')!
    const back = web.onFailure!.filter((step) => step.kind === 'exec' && /kamal-proxy deploy/.test(step.command))
    expect(back).toHaveLength(1)
    expect(back[0]).toMatchObject({ when: 'rollback_target' })
    expect(back[0].kind === 'exec' && back[0].command).toContain('--target="[[kda:rollback_target]]:80"')
    const before = plan.stages.find((stage) => stage.title === 'Before boot')!.lanes.find((lane) => lane.place === 'vm1')!.units[0]
    expect(before.steps.some((step) => step.kind === 'exec' && step.capture === 'old_container_id')).toBe(true)
  })

  test('off by default: Kamal’s boot, no wait for the other hosts', () => {
    expect(bootUnits(planFor()).flatMap((unit) => unit.steps).some((step) => step.kind === 'all-healthy')).toBe(false)
  })

  test('refused with boot.limit groups, before anything runs', () => {
    expect(() => planFor({ allOrNothing: true }, `${YAML}boot: { limit: 1 }\n`)).toThrow(/Input 'all-or-nothing'.*boot\.limit/)
  })
})
