import * as fs from 'node:fs'
import * as path from 'node:path'
import { accessorySettings } from '../../src/config/accessory'
import { proxyConfig } from '../../src/config/proxy'
import type { ConfigError } from '../../src/errors'
import { checkCrossFieldRules } from '../../src/config/rules'
import { AccessoryCommands } from '../../src/commands/accessory'
import { proxyRun, proxyRunFor } from '../../src/commands/proxy'
import { appUrl } from '../../src/report/app-url'
import { configFromYaml } from '../support/config'

const BASE = 'service: app\nimage: dhh/app\nregistry: { username: dhh, password: secret }\nbuilder: { arch: amd64 }\n'

describe('ProxyConfig (Kamal::Configuration::Proxy)', () => {
  test("Kamal's defaults for an empty block", () => {
    const proxy = proxyConfig({}, ['proxy'])
    expect(proxy).toMatchObject({
      hosts: [],
      ssl: false,
      certificate: undefined,
      appPort: 80,
      buffering: { requests: true, responses: true },
      pathPrefixes: [],
      logging: { requestHeaders: ['Cache-Control', 'Last-Modified', 'User-Agent'], responseHeaders: undefined },
      run: undefined,
    })
  })

  test('host is split on commas; hosts wins over host', () => {
    expect(proxyConfig({ host: 'a.example.com,b.example.com' }, []).hosts).toEqual(['a.example.com', 'b.example.com'])
    expect(proxyConfig({ host: 'a.example.com', hosts: ['c.example.com'] }, []).hosts).toEqual(['c.example.com'])
  })

  test('a custom certificate needs both secret names', () => {
    expect(proxyConfig({ ssl: { certificate_pem: 'CERT', private_key_pem: 'KEY' } }, []).certificate).toEqual({ certificatePem: 'CERT', privateKeyPem: 'KEY' })
    expect(proxyConfig({ ssl: { certificate_pem: 'CERT' } }, []).certificate).toBeUndefined()
    expect(proxyConfig({ ssl: { certificate_pem: 'CERT' } }, []).ssl).toBe(true)
    expect(proxyConfig({ ssl: false }, []).ssl).toBe(false)
  })

  test('a role gets the root proxy deep-merged with its own, the role winning', () => {
    const config = configFromYaml(`${BASE}servers:\n  web:\n    hosts: [1.1.1.1]\n    proxy: { app_port: 3000, healthcheck: { path: /health } }\nproxy:\n  host: example.com\n  healthcheck: { interval: 2, path: /up }\n`)
    const proxy = config.primaryRole?.proxy
    expect(proxy).toMatchObject({ hosts: ['example.com'], appPort: 3000, healthcheck: { interval: 2, path: '/health' }, path: ['servers', 'web', 'proxy'] })
  })

  test('proxy.run is typed with Kamal::Configuration::Proxy::Run defaults', () => {
    expect(proxyConfig({ run: { registry: 'registry:4443' } }, []).run).toMatchObject({
      debug: false,
      publish: true,
      httpPort: 80,
      httpsPort: 443,
      logMaxSize: '10m',
      image: 'registry:4443/basecamp/kamal-proxy:v0.9.2',
      metricsPort: undefined,
    })
    expect(proxyConfig({ run: { log_max_size: '' } }, []).run?.logMaxSize).toBeUndefined()
  })

  test('app URL from the typed settings', () => {
    expect(appUrl(configFromYaml(`${BASE}servers: [1.1.1.1]\nproxy: { host: example.com, ssl: true, path_prefix: api }\n`))).toBe('https://example.com/api')
    expect(appUrl(configFromYaml(`${BASE}servers: [1.1.1.1]\nproxy: { hosts: [a.example.com] }\n`))).toBe('http://a.example.com')
    expect(appUrl(configFromYaml(`${BASE}servers: [1.1.1.1]\n`))).toBeUndefined()
  })
})

describe('accessory proxies', () => {
  const YAML = `${BASE}servers:\n  web: [1.1.1.1]\nproxy: { host: app.example.com, app_port: 3000 }\naccessories:\n  grafana:\n    image: grafana/grafana\n    host: 1.1.1.9\n    proxy:\n      host: grafana.example.com\n      ssl: { certificate_pem: GRAFANA_CERT, private_key_pem: GRAFANA_KEY }\n      run: { http_port: 8080, https_port: 8443 }\n`

  test('an accessory proxy is not merged with the root proxy, and its TLS files have no role segment', () => {
    const config = configFromYaml(YAML)
    const grafana = accessorySettings(config, 'grafana', '/nonexistent')
    expect(grafana.proxy).toMatchObject({ hosts: ['grafana.example.com'], appPort: 80, ssl: true })
    expect(new AccessoryCommands(config, grafana).deploy('cid')).toBe(
      'docker exec kamal-proxy kamal-proxy deploy app-grafana --target="cid:80" --host="grafana.example.com" --tls --tls-certificate-path="/home/kamal-proxy/.apps-config/app/tls/cert.pem" --tls-private-key-path="/home/kamal-proxy/.apps-config/app/tls/key.pem" --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"',
    )
  })

  test("an accessory's proxy.run boots kamal-proxy on its host (Kamal's proxy_runs include host accessories)", () => {
    const config = configFromYaml(YAML)
    expect(proxyRunFor(config, '1.1.1.1')).toBeUndefined()
    expect(proxyRunFor(config, '1.1.1.9')).toMatchObject({ httpPort: 8080, httpsPort: 8443 })
    expect(proxyRun(config, '1.1.1.9')).toContain('--publish 8080:80 --publish 8443:443')
  })
})

describe('conflicting proxy.run on one host (Kamal ensure_no_conflicting_proxy_runs)', () => {
  const yaml = (accessoryRun: string) =>
    `${BASE}servers:\n  web: [1.1.1.1]\nproxy:\n  host: app.example.com\n  run: { http_port: 8080 }\naccessories:\n  grafana:\n    image: grafana/grafana\n    host: 1.1.1.1\n    proxy:\n      host: grafana.example.com\n      run: ${accessoryRun}\n`

  test("a role's and an accessory's differing run blocks are refused at the accessory's run", () => {
    const config = configFromYaml(yaml('{ http_port: 9090 }'))
    const error = (() => {
      try {
        checkCrossFieldRules(config, '/nonexistent')
      } catch (thrown) {
        return thrown as ConfigError
      }
      return undefined
    })()
    expect(error?.message).toMatch(/^Conflicting proxy run configurations for host 1\.1\.1\.1\b/)
    // line 16 is the accessory's `run:` (the second run block on the host)
    expect(error?.location).toMatchObject({ file: 'config/deploy.yml', line: 16 })
  })

  test('identical run blocks are fine', () => {
    expect(() => checkCrossFieldRules(configFromYaml(yaml('{ http_port: 8080 }')), '/nonexistent')).not.toThrow()
  })
})

describe('typed settings: nothing outside src/config reads the raw YAML', () => {
  const srcRoot = path.resolve(__dirname, '../../src')
  const files = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(path.join(dir, entry.name)) : entry.name.endsWith('.ts') ? [path.join(dir, entry.name)] : []))
  const outside = files(srcRoot).filter((file) => !file.startsWith(path.join(srcRoot, 'config') + path.sep))

  test.each([/proxy\??\.raw\b/, /accessory\??\.raw\b/, /\.raw\.(proxy|accessories|hooks_output|aliases|output)\b/, /\b(config|source|prepared\.config)\??\.raw\b/, /\.raw\.[a-z_]+\b/, /roleRaw\(/])('%s', (pattern) => {
    const readers = outside.filter((file) => pattern.test(fs.readFileSync(file, 'utf8'))).map((file) => path.relative(srcRoot, file))
    expect(readers).toEqual([])
  })
})
