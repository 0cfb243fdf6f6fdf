import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { AppCommands } from '../src/commands/app'
import { assetContainerPath, assetExtractedDirectory, assetVolumeDirectory, cleanUpAssets, extractAssets, roleHasAssets, syncAssetVolumes } from '../src/commands/assets'
import { cleanUpErrorPages, createErrorPagesDirectory, ERROR_PAGES_MODE, errorPagesDirectory, errorPagesUpload, isErrorPageName } from '../src/commands/error-pages'
import { proxyDeploy } from '../src/commands/proxy'
import { createTlsDirectory, hasCustomCertificate, TLS_FILE_MODE, tlsCertificatePath, tlsDirectory, tlsPrivateKeyPath, tlsUploads } from '../src/commands/tls'
import type { KamalConfig, Role } from '../src/config/model'
import { configFromYaml } from './support/config'

// Kamal's test/commands/app_test.rb config, as YAML.
const APP = `
service: app
image: dhh/app
registry: { username: dhh, password: secret }
servers:
  web: ["1.1.1.1"]
  workers: ["1.1.1.2"]
env:
  secret: [RAILS_MASTER_KEY]
builder: { arch: amd64 }
`
const role = (config: KamalConfig, name = 'web'): Role => {
  const found = config.roles.find((item) => item.name === name)
  if (!found) throw new Error(`no role ${name}`)
  return found
}
const withAssets = (extra = '', options: { destination?: string; version?: string } = {}) => configFromYaml(`${APP}asset_path: /public/assets\n${extra}`, options)

describe('asset bridging (spec §3.5, Kamal test/commands/app_test.rb)', () => {
  const c = withAssets()
  const web = role(c)

  test.each([
    [
      'extract assets',
      extractAssets(c, web),
      'mkdir -p .kamal/apps/app/assets/extracted/web-999 && docker container rm app-web-assets 2> /dev/null || true && docker container create --name app-web-assets dhh/app:999 && docker container cp -L app-web-assets:/public/assets/. .kamal/apps/app/assets/extracted/web-999 && docker container rm app-web-assets',
    ],
    ['sync asset volumes, no old version', syncAssetVolumes(c, web), 'mkdir -p .kamal/apps/app/assets/volumes/web-999 ; cp -rnT .kamal/apps/app/assets/extracted/web-999 .kamal/apps/app/assets/volumes/web-999'],
    ['sync asset volumes, blank old version (nothing running)', syncAssetVolumes(c, web, ''), 'mkdir -p .kamal/apps/app/assets/volumes/web-999 ; cp -rnT .kamal/apps/app/assets/extracted/web-999 .kamal/apps/app/assets/volumes/web-999'],
    [
      'sync asset volumes with an old version',
      syncAssetVolumes(c, web, '998'),
      'mkdir -p .kamal/apps/app/assets/volumes/web-999 ; cp -rnT .kamal/apps/app/assets/extracted/web-999 .kamal/apps/app/assets/volumes/web-999 ; cp -rnT .kamal/apps/app/assets/extracted/web-999 .kamal/apps/app/assets/volumes/web-998 || true ; cp -rnT .kamal/apps/app/assets/extracted/web-998 .kamal/apps/app/assets/volumes/web-999 || true',
    ],
    [
      'clean up assets',
      cleanUpAssets(c, web),
      `find .kamal/apps/app/assets/extracted -maxdepth 1 -name 'web-*' ! -name web-999 -exec rm -rf "{}" + ; find .kamal/apps/app/assets/volumes -maxdepth 1 -name 'web-*' ! -name web-999 -exec rm -rf "{}" +`,
    ],
    ['extracted directory', assetExtractedDirectory(c, web, '1'), '.kamal/apps/app/assets/extracted/web-1'],
    ['volume directory', assetVolumeDirectory(c, web, '1'), '.kamal/apps/app/assets/volumes/web-1'],
  ])('%s', (_name, actual, expected) => expect(actual).toBe(expected))

  test('Kamal test/cli/app_test.rb "boot with assets": version latest, old version 123', () => {
    const latest = withAssets('', { version: 'latest' })
    expect(syncAssetVolumes(latest, role(latest), '123')).toBe(
      'mkdir -p .kamal/apps/app/assets/volumes/web-latest ; cp -rnT .kamal/apps/app/assets/extracted/web-latest .kamal/apps/app/assets/volumes/web-latest ; cp -rnT .kamal/apps/app/assets/extracted/web-latest .kamal/apps/app/assets/volumes/web-123 || true ; cp -rnT .kamal/apps/app/assets/extracted/web-123 .kamal/apps/app/assets/volumes/web-latest || true',
    )
    expect(extractAssets(latest, role(latest))).toBe(
      'mkdir -p .kamal/apps/app/assets/extracted/web-latest && docker container rm app-web-assets 2> /dev/null || true && docker container create --name app-web-assets dhh/app:latest && docker container cp -L app-web-assets:/public/assets/. .kamal/apps/app/assets/extracted/web-latest && docker container rm app-web-assets',
    )
  })

  test('destination and registry: <sd> in the paths, <prefix>-assets container, full image', () => {
    const stagingConfig = configFromYaml(APP.replace('registry: { username: dhh, password: secret }', 'registry: { server: "registry:4443", username: dhh, password: secret }') + 'asset_path: /public/assets\n', { destination: 'staging' })
    expect(extractAssets(stagingConfig, role(stagingConfig))).toBe(
      'mkdir -p .kamal/apps/app-staging/assets/extracted/web-999 && docker container rm app-web-staging-assets 2> /dev/null || true && docker container create --name app-web-staging-assets registry:4443/dhh/app:999 && docker container cp -L app-web-staging-assets:/public/assets/. .kamal/apps/app-staging/assets/extracted/web-999 && docker container rm app-web-staging-assets',
    )
  })

  test('asset_path options are for the mount only; the extraction uses the path', () => {
    const c2 = configFromYaml(`${APP}asset_path: /public/assets:ro\n`)
    expect(assetContainerPath(role(c2))).toBe('/public/assets')
    expect(extractAssets(c2, role(c2))).toContain('docker container cp -L app-web-assets:/public/assets/. ')
    expect(new AppCommands(c2, role(c2), '1.1.1.1').assetVolumeArgs()).toEqual(['--volume', '$PWD/.kamal/apps/app/assets/volumes/web-999:/public/assets:ro'])
  })

  test('only roles that run the proxy bridge assets', () => {
    expect(roleHasAssets(role(c, 'web'))).toBe(true)
    expect(roleHasAssets(role(c, 'workers'))).toBe(false)
    expect(roleHasAssets(role(configFromYaml(APP), 'web'))).toBe(false)
  })
})

describe('error pages (spec §1.5, Kamal test/cli/app_test.rb "boot with error pages")', () => {
  const latest = configFromYaml(`${APP}error_pages_path: public\n`, { version: 'latest' })

  test.each([
    ['directory', errorPagesDirectory(latest), '.kamal/proxy/apps-config/app/error_pages'],
    ['create the directory', createErrorPagesDirectory(latest), 'mkdir -p .kamal/proxy/apps-config/app/error_pages'],
    ['clean up older versions', cleanUpErrorPages(latest), 'find .kamal/proxy/apps-config/app/error_pages -mindepth 1 -maxdepth 1 ! -name latest -exec rm -rf {} +'],
    [
      'with a destination',
      cleanUpErrorPages(configFromYaml(`${APP}error_pages_path: public\n`, { destination: 'staging', version: 'abc' })),
      'find .kamal/proxy/apps-config/app-staging/error_pages -mindepth 1 -maxdepth 1 ! -name abc -exec rm -rf {} +',
    ],
  ])('%s', (_name, actual, expected) => expect(actual).toBe(expected))

  test('the version directory matches kamal-proxy --error-pages', () => {
    const deploy = proxyDeploy(latest, role(latest), 'cid')
    expect(deploy).toContain('--error-pages="/home/kamal-proxy/.apps-config/app/error_pages/latest"')
  })

  test.each([
    ['404.html', true],
    ['500.html', true],
    ['4xx.html', true],
    ['5é9.html', true],
    ['200.html', false],
    ['404.htm', false],
    ['40.html', false],
    ['4040.html', false],
    ['index.html', false],
  ])('glob {4??.html,5??.html}: %s', (name, expected) => expect(isErrorPageName(name)).toBe(expected))

  describe('upload (real files in a temp project)', () => {
    let project: string
    beforeEach(() => {
      project = fs.mkdtempSync(path.join(os.tmpdir(), 'kamal-error-pages-'))
    })
    afterEach(() => fs.rmSync(project, { recursive: true, force: true }))

    test('the 4??/5?? pages go to error_pages/<version>/, mode 0700', () => {
      fs.mkdirSync(path.join(project, 'public'))
      for (const name of ['503.html', '404.html', 'index.html', 'robots.txt']) fs.writeFileSync(path.join(project, 'public', name), name)
      fs.mkdirSync(path.join(project, 'public/500.html'))
      expect(errorPagesUpload(latest, project)).toEqual({
        createDirectory: 'mkdir -p .kamal/proxy/apps-config/app/error_pages',
        versionDirectory: '.kamal/proxy/apps-config/app/error_pages/latest',
        files: [
          { localPath: path.join(project, 'public/404.html'), remotePath: '.kamal/proxy/apps-config/app/error_pages/latest/404.html' },
          { localPath: path.join(project, 'public/503.html'), remotePath: '.kamal/proxy/apps-config/app/error_pages/latest/503.html' },
        ],
        mode: ERROR_PAGES_MODE,
      })
      expect(ERROR_PAGES_MODE).toBe(0o700)
    })

    test('nothing to upload: no pages, a missing directory, or no error_pages_path', () => {
      fs.mkdirSync(path.join(project, 'public'))
      fs.writeFileSync(path.join(project, 'public/index.html'), 'x')
      expect(errorPagesUpload(latest, project)).toBeUndefined()
      expect(errorPagesUpload(configFromYaml(`${APP}error_pages_path: missing\n`), project)).toBeUndefined()
      expect(errorPagesUpload(configFromYaml(APP), project)).toBeUndefined()
    })
  })
})

describe('custom TLS certificates (spec §1.5, Kamal test/cli/app_test.rb "boot with custom ssl certificate")', () => {
  const c = configFromYaml(`${APP}proxy: { host: example.com, ssl: { certificate_pem: CERT_PEM, private_key_pem: KEY_PEM } }\n`)
  const web = role(c)
  const secrets: Record<string, string> = { CERT_PEM: 'CERTIFICATE CONTENT', KEY_PEM: 'PRIVATE KEY CONTENT' }

  test.each([
    ['directory', tlsDirectory(c, web), '.kamal/proxy/apps-config/app/tls/web'],
    ['create the directory', createTlsDirectory(c, web), 'mkdir -p .kamal/proxy/apps-config/app/tls/web'],
    ['certificate', tlsCertificatePath(c, web), '.kamal/proxy/apps-config/app/tls/web/cert.pem'],
    ['private key', tlsPrivateKeyPath(c, web), '.kamal/proxy/apps-config/app/tls/web/key.pem'],
    ['with a destination', tlsDirectory(configFromYaml(`${APP}proxy: { ssl: { certificate_pem: A, private_key_pem: B } }\n`, { destination: 'production' }), web), '.kamal/proxy/apps-config/app-production/tls/web'],
  ])('%s', (_name, actual, expected) => expect(actual).toBe(expected))

  test('uploads: cert.pem then key.pem from the named secrets, mode 0644', () => {
    expect(tlsUploads(c, web, (key) => secrets[key])).toEqual([
      { path: '.kamal/proxy/apps-config/app/tls/web/cert.pem', content: 'CERTIFICATE CONTENT', mode: TLS_FILE_MODE, secret: 'CERT_PEM' },
      { path: '.kamal/proxy/apps-config/app/tls/web/key.pem', content: 'PRIVATE KEY CONTENT', mode: TLS_FILE_MODE, secret: 'KEY_PEM' },
    ])
    expect(TLS_FILE_MODE).toBe(0o644)
  })

  test('the container paths kamal-proxy gets point at the same files', () => {
    const deploy = proxyDeploy(c, web, 'cid')
    expect(deploy).toContain('--tls-certificate-path="/home/kamal-proxy/.apps-config/app/tls/web/cert.pem" --tls-private-key-path="/home/kamal-proxy/.apps-config/app/tls/web/key.pem"')
  })

  test.each([
    ['ssl: true', `${APP}proxy: { host: example.com, ssl: true }\n`, 'web'],
    ['no proxy on the role', `${APP}proxy: { ssl: { certificate_pem: A, private_key_pem: B } }\n`, 'workers'],
    ['only a certificate', `${APP}proxy: { ssl: { certificate_pem: A } }\n`, 'web'],
  ])('no custom certificate: %s', (_name, yaml, roleName) => {
    const config = configFromYaml(yaml)
    expect(hasCustomCertificate(role(config, roleName))).toBe(false)
    expect(tlsUploads(config, role(config, roleName), () => 'never')).toEqual([])
  })
})
