import { bootGroups, bootLanes, bootLimit, bootPlan, bootSettings } from '../src/plan/boot-groups'
import { selectTargets } from '../src/plan/targets'
import type { KamalConfig } from '../src/config/model'
import { configFromYaml } from './support/config'

// Kamal's test/configuration/boot_test.rb config.
const BOOT = (boot: string) => `
service: app
image: dhh/app
registry: { username: dhh, password: secret }
builder: { arch: amd64 }
servers:
  web: ["1.1.1.1", "1.1.1.2"]
  workers: ["1.1.1.3", "1.1.1.4"]
${boot}
`

const plan = (config: KamalConfig) => {
  const targets = selectTargets(config, { roles: [], hosts: [] })
  return bootPlan(bootSettings(config), targets.roles, targets.appHosts)
}
const lanesAsText = (config: KamalConfig) => plan(config).map((group) => group.lanes.map((lane) => lane.map(({ host, role }) => `${host}:${role.name}`).join(' ')))

describe('boot settings (Kamal test/configuration/boot_test.rb)', () => {
  test.each([
    ['no boot config', '', { limit: undefined, wait: undefined, parallelRoles: false }],
    ['specific limit', 'boot: { limit: 3, wait: 2 }', { limit: 3, wait: 2, parallelRoles: false }],
    ['percentage: 50% of 4 hosts', 'boot: { limit: "50%", wait: 2 }', { limit: 2, wait: 2, parallelRoles: false }],
    ['percentage is at least 1', 'boot: { limit: "1%", wait: 2 }', { limit: 1, wait: 2, parallelRoles: false }],
    ['parallel_roles', 'boot: { parallel_roles: true }', { limit: undefined, wait: undefined, parallelRoles: true }],
  ])('%s', (_name, boot, expected) => {
    expect(bootSettings(configFromYaml(BOOT(boot)))).toEqual(expected)
  })

  test('the percentage counts accessory-only hosts too', () => {
    const config = configFromYaml(BOOT('boot: { limit: "50%" }\naccessories:\n  db: { image: mysql, hosts: ["1.1.1.5", "1.1.1.6", "1.1.1.7", "1.1.1.8"] }\n'))
    expect(config.allHosts).toHaveLength(8)
    expect(bootSettings(config).limit).toBe(4)
    expect(plan(config).map((group) => group.hosts)).toEqual([['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4']])
  })

  test.each([
    ['25% of 3 hosts floors to 0, then 1', '25%', 3, 1],
    ['33% of 10', '33%', 10, 3],
    ['100%', '100%', 7, 7],
    ['a number', 2, 7, 2],
    ['unset', undefined, 7, undefined],
  ] as Array<[string, unknown, number, number | undefined]>)('bootLimit: %s', (_name, limit, count, expected) => {
    expect(bootLimit(limit, count)).toBe(expected)
  })
})

describe('boot groups (Kamal test/cli/app_test.rb "boot uses group strategy when specified")', () => {
  test('limit 3, wait 2: groups [1,2,3] then [4], each followed by the wait', () => {
    const groups = plan(configFromYaml(BOOT('boot: { limit: 3, wait: 2 }')))
    expect(groups.map((group) => group.hosts)).toEqual([['1.1.1.1', '1.1.1.2', '1.1.1.3'], ['1.1.1.4']])
    expect(groups.map((group) => group.hostList)).toEqual(['1.1.1.1,1.1.1.2,1.1.1.3', '1.1.1.4'])
    expect(groups.map((group) => group.waitAfter)).toEqual([2, 2])
  })

  test('without a limit: one group of every app host, no wait', () => {
    const groups = plan(configFromYaml(BOOT('')))
    expect(groups).toHaveLength(1)
    expect(groups[0]).toMatchObject({ hosts: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4'], waitAfter: undefined })
  })

  test('primary-role hosts come first, so the first group can open the health barrier', () => {
    const config = configFromYaml(BOOT('boot: { limit: 1 }').replace('servers:\n  web: ["1.1.1.1", "1.1.1.2"]\n  workers: ["1.1.1.3", "1.1.1.4"]', 'servers:\n  workers: ["1.1.1.3", "1.1.1.1"]\n  web: ["1.1.1.2"]'))
    expect(plan(config).map((group) => group.hostList)).toEqual(['1.1.1.2', '1.1.1.3', '1.1.1.1'])
  })

  test('selected hosts only (hosts input)', () => {
    const config = configFromYaml(BOOT('boot: { limit: 1 }'))
    const targets = selectTargets(config, { roles: [], hosts: ['1.1.1.4', '1.1.1.2'] })
    expect(bootPlan(bootSettings(config), targets.roles, targets.appHosts).map((group) => group.hostList)).toEqual(['1.1.1.2', '1.1.1.4'])
  })

  test('each_slice edge cases', () => {
    expect(bootGroups([], 2)).toEqual([])
    expect(bootGroups(['a', 'b', 'c', 'd'], 2)).toEqual([['a', 'b'], ['c', 'd']])
    expect(bootGroups(['a', 'b'], 5)).toEqual([['a', 'b']])
    expect(() => bootGroups(['a'], 0)).toThrow('boot.limit must be a positive whole number')
  })
})

describe('roles within a group (Kamal on_roles; test/cli/app_test.rb parallel roles)', () => {
  // Kamal's test/fixtures/deploy_with_parallel_roles.yml / deploy_without_parallel_roles.yml
  const SHARED_HOST = (boot: string) => `
service: app
image: dhh/app
servers:
  web: ["1.1.1.1", "1.1.1.2"]
  workers: ["1.1.1.1", "1.1.1.3"]
builder: { arch: amd64 }
registry: { username: user, password: pw }
${boot}
`

  test('without parallel_roles: one lane per host, the roles on it one after another, primary first', () => {
    expect(lanesAsText(configFromYaml(SHARED_HOST('')))).toEqual([['1.1.1.1:web 1.1.1.1:workers', '1.1.1.2:web', '1.1.1.3:workers']])
  })

  test('with parallel_roles: every (role, host) at once — Kamal runs on([1,2]) for web and on([1,3]) for workers', () => {
    expect(lanesAsText(configFromYaml(SHARED_HOST('boot: { parallel_roles: true }')))).toEqual([['1.1.1.1:web', '1.1.1.2:web', '1.1.1.1:workers', '1.1.1.3:workers']])
  })

  test('lanes are limited to the group', () => {
    const config = configFromYaml(SHARED_HOST('boot: { limit: 2 }'))
    expect(lanesAsText(config)).toEqual([['1.1.1.1:web 1.1.1.1:workers', '1.1.1.2:web'], ['1.1.1.3:workers']])
    const targets = selectTargets(config, { roles: [], hosts: [] })
    expect(bootLanes(targets.roles, ['1.1.1.3'], true).map((lane) => lane.map(({ host, role }) => `${host}:${role.name}`))).toEqual([['1.1.1.3:workers']])
  })
})
