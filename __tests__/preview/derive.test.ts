import { buildPlan } from '../../src/plan/deploy-plan'
import { planRequest } from '../support/plan-request'
import { walkPlan, type Plan } from '../../src/plan/steps'
import { selectTargets } from '../../src/plan/targets'
import { appUrl } from '../../src/report/app-url'
import { previewConfig, previewRoleName } from '../../src/preview/derive'
import { configFromYaml } from '../support/config'

const YAML = `
service: shop
image: acme/shop
registry: { server: registry.test, username: deployer, password: [KAMAL_REGISTRY_PASSWORD] }
servers:
  web:
    hosts: [vm1, vm2]
    proxy: { host: www.shop.test, healthcheck: { path: /up } }
  workers: { hosts: [vm3], cmd: bin/jobs }
proxy: { hosts: [shop.test, www.shop.test], app_port: 3000 }
accessories:
  db: { image: postgres:16, host: vm3 }
env:
  clear: { MODE: prod }
`

const request = planRequest

function commandsOf(plan: Plan): string[] {
  const out: string[] = []
  for (const { step } of walkPlan(plan)) {
    const value = step as { command?: unknown; list?: unknown; current?: unknown; stop?: unknown; path?: unknown }
    for (const field of [value.command, value.list, value.current, value.stop, value.path]) if (typeof field === 'string') out.push(field)
  }
  return out
}

describe('a pull request preview config', () => {
  const app = configFromYaml(YAML, { version: 'abc123' })
  const preview = previewConfig(app, { pr: 7, domain: 'preview.shop.test' })

  test('is its own service, with only the web role on its hosts, as the primary role', () => {
    expect(preview.service).toBe('shop-pr-7')
    expect(preview.roles.map((role) => [role.name, role.hosts, role.primary, role.containerPrefix])).toEqual([['web', ['vm1', 'vm2'], true, 'shop-pr-7-web']])
    expect(preview.accessories).toEqual([])
    expect(preview.allHosts).toEqual(['vm1', 'vm2'])
    expect(preview.version).toBe('abc123')
  })

  test('answers on pr-<N>.<domain> only, with the rest of the proxy settings kept; over http unless the app asks for TLS', () => {
    const proxy = preview.primaryRole?.proxy
    expect(proxy?.hosts).toEqual(['pr-7.preview.shop.test'])
    expect(proxy?.appPort).toBe(3000)
    expect(proxy?.healthcheck.path).toBe('/up')
    expect(proxy?.ssl).toBe(false)
    expect(appUrl(preview)).toBe('http://pr-7.preview.shop.test')
    const tls = previewConfig(configFromYaml(YAML.replace('app_port: 3000', 'app_port: 3000, ssl: true')), { pr: 7, domain: 'preview.shop.test' })
    expect(appUrl(tls)).toBe('https://pr-7.preview.shop.test')
  })

  test('keeps its own latest tag and the app image repository, and leaves the app config untouched', () => {
    expect(preview.latestTag).toBe('latest-pr-7')
    expect(preview.latestImage).toBe('registry.test/acme/shop:latest-pr-7')
    expect(preview.absoluteImage).toBe('registry.test/acme/shop:abc123')
    expect(app.service).toBe('shop')
    expect(app.latestTag).toBe('latest')
    expect(app.roles.map((role) => role.name)).toEqual(['web', 'workers'])
    expect(app.primaryRole?.proxy?.hosts).toEqual(configFromYaml(YAML).primaryRole?.proxy?.hosts)
    expect(app.primaryRole?.proxy?.hosts).toContain('www.shop.test')
    expect(Object.keys(app.raw.accessories as object)).toEqual(['db'])
  })

  test('a destination stays part of every name', () => {
    const staged = previewConfig(configFromYaml(YAML, { destination: 'staging' }), { pr: 3, domain: 'p.test' })
    expect(staged.serviceAndDestination).toBe('shop-pr-3-staging')
    expect(staged.latestTag).toBe('latest-staging-pr-3')
  })

  test('a servers list is the web role; preview-role chooses another proxied role; unknown or unproxied roles are refused naming the input', () => {
    const listed = previewConfig(configFromYaml('service: shop\nimage: acme/shop\nregistry: { server: r.test }\nservers: [vm1]\n'), { pr: 1, domain: 'p.test' })
    expect(listed.roles.map((role) => [role.name, role.hosts])).toEqual([['web', ['vm1']]])
    const api = configFromYaml(YAML.replace('workers: { hosts: [vm3], cmd: bin/jobs }', 'api: { hosts: [vm3], proxy: { host: api.shop.test } }'))
    const apiPreview = previewConfig(api, { pr: 2, domain: 'p.test', role: 'api' })
    expect(apiPreview.roles.map((role) => [role.name, role.hosts, role.proxy?.hosts])).toEqual([['api', ['vm3'], ['pr-2.p.test']]])
    expect(() => previewRoleName(app, 'nope')).toThrow("Input 'preview-role': there is no role 'nope' in servers: of your config (roles: web, workers)")
    expect(() => previewRoleName(app, 'workers')).toThrow("Input 'preview-role': role 'workers' does not run behind kamal-proxy")
    const primaryOnly = configFromYaml('service: shop\nimage: acme/shop\nregistry: { server: r.test }\nprimary_role: app\nservers: { app: [vm1], jobs: [vm2] }\n')
    expect(previewRoleName(primaryOnly)).toBe('app')
  })

  test("the preview's deploy plan touches only its own containers, env files, lock and route, never an accessory or the app's", () => {
    const plan = buildPlan(preview, selectTargets(preview, { roles: [], hosts: [] }), request())
    expect(plan.hosts).toEqual(['vm1', 'vm2'])
    const commands = commandsOf(plan)
    const joined = commands.join('\n')
    expect(joined).toContain('.kamal/lock-shop-pr-7')
    expect(joined).toContain('.kamal/apps/shop-pr-7/env/roles/web.env')
    expect(joined).toContain('kamal-proxy deploy shop-pr-7-web')
    expect(joined).toContain('--host="pr-7.preview.shop.test"')
    expect(joined).toContain('label=service=shop-pr-7')
    expect(joined).not.toMatch(/label=service=shop(?!-pr-7)/)
    expect(joined).not.toMatch(/shop-web|lock-shop(?!-pr-7)|apps\/shop(?!-pr-7)|postgres|shop-db/)
    expect(joined).not.toMatch(/registry\.test\/acme\/shop:latest(?!-pr-7)/)
  })

  test("the preview's removal (remove preview) takes down its route even without a running container, its containers, images, directories and audit log, under its own lock", () => {
    const plan = buildPlan(preview, selectTargets(preview, { roles: [], hosts: [] }), request({ command: 'remove', subcommand: 'preview', build: [] }))
    const joined = commandsOf(plan).join('\n')
    expect(joined).toContain('docker container prune --force --filter label=service=shop-pr-7')
    expect(joined).toContain('docker image prune --all --force --filter label=service=shop-pr-7')
    expect(joined).toContain('rm -r .kamal/apps/shop-pr-7')
    expect(joined).toContain('.kamal/lock-shop-pr-7')
    expect(joined).not.toMatch(/label=service=shop(?!-pr-7)|apps\/shop(?!-pr-7)|lock-shop(?!-pr-7)|docker logout/)
    const route = [...walkPlan(plan)].filter(({ stage }) => stage.title === 'Remove the preview route')
    expect(route.map(({ lane, step }) => [lane.place, (step as { command: string }).command, (step as { when?: string }).when, (step as { tolerate?: string }).tolerate])).toEqual([
      ['vm1', 'docker exec kamal-proxy kamal-proxy remove shop-pr-7-web', undefined, 'service not found|No such container|is not running'],
      ['vm2', 'docker exec kamal-proxy kamal-proxy remove shop-pr-7-web', undefined, 'service not found|No such container|is not running'],
    ])
    const titles = plan.stages.map((stage) => stage.title)
    expect(titles.indexOf('Remove the preview audit log')).toBeGreaterThan(titles.indexOf('Remove app directories'))
    expect(titles[titles.length - 1]).toBe('Release deploy lock')
    expect(joined).toContain('rm -f .kamal/shop-pr-7-audit.log')
    expect(plan.stages.some((stage) => /proxy/i.test(stage.title) && stage.title !== 'Remove the preview route')).toBe(false)
  })
})
