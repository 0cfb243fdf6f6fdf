import { selectTargets } from '../../src/plan/targets'
import { configFromYaml } from '../support/config'

const YAML = `service: app
image: dhh/app
registry: { username: dhh, password: secret }
builder: { arch: amd64 }
servers:
  web: [1.1.1.1, 1.1.1.2]
  workers:
    hosts: [1.1.1.3]
    cmd: bin/jobs
accessories:
  grafana:
    image: grafana/grafana
    host: 1.1.1.9
    proxy: { host: grafana.example.com }
  redis:
    image: redis:7
    host: 1.1.1.8
`

describe('selectTargets proxy hosts (Kamal Specifics#proxy_hosts)', () => {
  test('a host with only a proxied accessory runs kamal-proxy; a plain accessory host does not', () => {
    const targets = selectTargets(configFromYaml(YAML), { roles: [], hosts: [] })
    expect(targets.proxyHosts).toEqual(['1.1.1.1', '1.1.1.2', '1.1.1.9'])
    expect(targets.hosts).toEqual(['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.9', '1.1.1.8'])
  })

  test('limited to the selected hosts', () => {
    expect(selectTargets(configFromYaml(YAML), { roles: [], hosts: ['1.1.1.2'] }).proxyHosts).toEqual(['1.1.1.2'])
    expect(selectTargets(configFromYaml(YAML), { roles: ['workers'], hosts: [] }).proxyHosts).toEqual([])
  })

  test('a non-proxied role on a host shared with a proxied role still has the proxy there (config.proxy_hosts & specified hosts)', () => {
    const shared = YAML.replace('hosts: [1.1.1.3]', 'hosts: [1.1.1.2]')
    expect(selectTargets(configFromYaml(shared), { roles: ['workers'], hosts: [] }).proxyHosts).toEqual(['1.1.1.2'])
  })
})
