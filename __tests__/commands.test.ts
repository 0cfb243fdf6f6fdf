import { AppCommands, parseServingVersion, parseStaleSurvey } from '../src/commands/app'
import { Auditor } from '../src/commands/auditor'
import { buildCommand } from '../src/commands/builder'
import { LockCommands, lockDetails, mimeBase64 } from '../src/commands/lock'
import { PruneCommands } from '../src/commands/prune'
import { createNetwork, ensureProxyAppsDirectory, proxyDeploy, proxyImageVersion, proxyRun, proxyStartOrRun, proxyStop, proxyResume, proxyRemove } from '../src/commands/proxy'
import { pullCommands, registryLogin } from '../src/commands/registry'
import type { KamalConfig, Role } from '../src/config/model'
import { configFromYaml } from './support/config'

// Kamal's own unit-test config (test/commands/app_test.rb), as YAML.
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

// The integration fixture app_with_roles (spec §1.10), ERB already rendered.
const APP_WITH_ROLES = `
service: app_with_roles
image: app_with_roles
servers:
  web:
    hosts: [vm1, vm2]
  workers:
    hosts: [vm3]
    cmd: sleep infinity
deploy_timeout: 2
drain_timeout: 2
readiness_delay: 0
proxy:
  run:
    registry: registry:4443
  host: localhost
  ssl: false
  healthcheck: { interval: 1, timeout: 1, path: "/up" }
  response_timeout: 2
  buffering:
    requests: false
    responses: false
    memory: 400_000
    max_request_body: 40_000_000
    max_response_body: 40_000_000
  forward_headers: true
  logging:
    request_headers: [Cache-Control, X-Forwarded-Proto]
    response_headers: [X-Request-ID, X-Request-Start]
asset_path: /usr/share/nginx/html/versions
error_pages_path: error_pages
registry: { server: "registry:4443", username: root, password: root }
builder:
  driver: docker
  arch: amd64
  args:
    COMMIT_SHA: V
`

const role = (config: KamalConfig, name: string): Role => {
  const found = config.roles.find((item) => item.name === name)
  if (!found) throw new Error(`no role ${name}`)
  return found
}
const app = (config: KamalConfig, roleName = 'web', host?: string) => new AppCommands(config, role(config, roleName), host ?? role(config, roleName).hosts[0])
const withApp = (extra: string, options: { destination?: string } = {}) => configFromYaml(APP + extra, options)
const envOf = (config: KamalConfig, roleName = 'web') => config.envFor(role(config, roleName), role(config, roleName).hosts[0])

const CURRENT_WEB =
  "sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1"
const CURRENT_WORKERS = CURRENT_WEB.replace(/role=web/g, 'role=workers')

describe('docker run for an app container (spec §2.3)', () => {
  const rows: Array<[string, () => string, string]> = [
    [
      'plain',
      () => { const c = withApp(''); return app(c).run({ env: envOf(c) }) },
      'docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh/app:999',
    ],
    [
      'with destination',
      () => { const c = withApp('', { destination: 'staging' }); return app(c).run({ env: envOf(c) }) },
      'docker run --detach --restart unless-stopped --name app-web-staging-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-staging-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env KAMAL_DESTINATION="staging" --env-file .kamal/apps/app-staging/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination="staging" dhh/app:999',
    ],
    [
      'with hostname',
      () => { const c = withApp(''); return app(c).run({ env: envOf(c), hostname: 'myhost' }) },
      'docker run --detach --restart unless-stopped --name app-web-999 --network kamal --hostname myhost --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh/app:999',
    ],
    [
      'with volumes',
      () => { const c = withApp('volumes: ["/local/path:/container/path"]\n'); return app(c).run({ env: envOf(c) }) },
      'docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --volume /local/path:/container/path --label service="app" --label role="web" --label destination dhh/app:999',
    ],
    [
      'role options and cmd',
      () => {
        const c = configFromYaml(APP.replace(/servers:[\s\S]*?env:/, 'servers:\n  web: ["1.1.1.1"]\n  jobs:\n    hosts: ["1.1.1.2"]\n    cmd: bin/jobs\n    options: { mount: somewhere, cap-add: true }\nenv:'))
        return app(c, 'jobs').run({ env: envOf(c, 'jobs') })
      },
      'docker run --detach --restart unless-stopped --name app-jobs-999 --network kamal --env KAMAL_CONTAINER_NAME="app-jobs-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.2" --env-file .kamal/apps/app/env/roles/jobs.env --log-opt max-size="10m" --label service="app" --label role="jobs" --label destination --mount "somewhere" --cap-add dhh/app:999 bin/jobs',
    ],
    [
      'custom restart policy',
      () => {
        const c = configFromYaml(APP.replace(/servers:[\s\S]*?env:/, 'servers:\n  web:\n    hosts: ["1.1.1.1"]\n    options: { restart: on-failure }\nenv:'))
        return app(c).run({ env: envOf(c) })
      },
      'docker run --detach --restart on-failure --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh/app:999',
    ],
    [
      'logging driver and options',
      () => { const c = withApp('logging: { driver: local, options: { max-size: 100m, max-file: "3" } }\n'); return app(c).run({ env: envOf(c) }) },
      'docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-driver "local" --log-opt max-size="100m" --log-opt max-file="3" --label service="app" --label role="web" --label destination dhh/app:999',
    ],
    [
      'role logging deep-merged over root',
      () => {
        const c = configFromYaml(
          APP.replace(/servers:[\s\S]*?env:/, 'servers:\n  web:\n    hosts: ["1.1.1.1"]\n    logging: { driver: local, options: { max-size: 100m } }\nenv:') + 'logging: { driver: local, options: { max-size: 10m, max-file: "3" } }\n',
        )
        return app(c).run({ env: envOf(c) })
      },
      'docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/roles/web.env --log-driver "local" --log-opt max-size="100m" --log-opt max-file="3" --label service="app" --label role="web" --label destination dhh/app:999',
    ],
    [
      'host tag env',
      () => {
        const c = configFromYaml(APP.replace(/servers:[\s\S]*?env:\n {2}secret: \[RAILS_MASTER_KEY\]/, 'servers:\n  - "1.1.1.1": tag1\nenv:\n  secret: [RAILS_MASTER_KEY]\n  tags:\n    tag1: { ENV1: value1 }'))
        return app(c).run({ env: envOf(c) })
      },
      'docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env ENV1="value1" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh/app:999',
    ],
    [
      'clear env quoting: ${VAR} kept for the host, $ escaped, empty value bare',
      () => {
        const c = configFromYaml(APP.replace('env:\n  secret: [RAILS_MASTER_KEY]', 'env:\n  clear:\n    HOST_TOKEN: "${HOST_TOKEN}"\n    PRICE: "$5 `x`"\n    EMPTY: ""\n    QUOTE: \'say "hi"\'\n    UNICODE: \'1234 with "中文"\''))
        return app(c).run({ env: envOf(c) })
      },
      'docker run --detach --restart unless-stopped --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env HOST_TOKEN="${HOST_TOKEN}" --env PRICE="\\$5 \\`x\\`" --env EMPTY --env QUOTE="say \\"hi\\"" --env UNICODE="1234 with \\""中文"\\"" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size="10m" --label service="app" --label role="web" --label destination dhh/app:999',
    ],
    [
      'app_with_roles web on vm1 (spec §1.10)',
      () => { const c = configFromYaml(APP_WITH_ROLES, { version: 'V' }); return app(c, 'web', 'vm1').run({ env: envOf(c), hostname: 'vm1-0123456789ab' }) },
      'docker run --detach --restart unless-stopped --name app_with_roles-web-V --network kamal --hostname vm1-0123456789ab --env KAMAL_CONTAINER_NAME="app_with_roles-web-V" --env KAMAL_VERSION="V" --env KAMAL_HOST="vm1" --env-file .kamal/apps/app_with_roles/env/roles/web.env --log-opt max-size="10m" --volume $PWD/.kamal/apps/app_with_roles/assets/volumes/web-V:/usr/share/nginx/html/versions --label service="app_with_roles" --label role="web" --label destination registry:4443/app_with_roles:V',
    ],
    [
      'app_with_roles workers on vm3: no asset volume (not proxied), cmd appended',
      () => { const c = configFromYaml(APP_WITH_ROLES, { version: 'V' }); return app(c, 'workers', 'vm3').run({ env: envOf(c, 'workers'), hostname: 'vm3-0123456789ab' }) },
      'docker run --detach --restart unless-stopped --name app_with_roles-workers-V --network kamal --hostname vm3-0123456789ab --env KAMAL_CONTAINER_NAME="app_with_roles-workers-V" --env KAMAL_VERSION="V" --env KAMAL_HOST="vm3" --env-file .kamal/apps/app_with_roles/env/roles/workers.env --log-opt max-size="10m" --label service="app_with_roles" --label role="workers" --label destination registry:4443/app_with_roles:V sleep infinity',
    ],
  ]
  test.each(rows)('%s', (_name, build, expected) => {
    expect(build()).toBe(expected)
  })
})

describe('boot helpers (spec §1.5)', () => {
  const c = withApp('')
  const rows: Array<[string, string, string]> = [
    [
      'current running version',
      app(c).currentRunningVersion(),
      "sh -c 'docker ps --latest --format '\\''{{.Names}}'\\'' --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''{{.ID}}'\\'') ; docker ps --latest --format '\\''{{.Names}}'\\'' --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | while read line; do echo ${line#app-web-}; done",
    ],
    ['current running container id', app(c).currentRunningContainerId(), CURRENT_WEB],
    ['stop current, proxied role: no -t', app(c).stop(), `${CURRENT_WEB} | xargs docker stop`],
    ['stop current, non-proxied role: drain_timeout', app(c, 'workers').stop(), `${CURRENT_WORKERS} | xargs docker stop -t 30`],
    ['stop by version', app(c).stop('123'), "docker container ls --all --filter 'name=^app-web-123$' --quiet | xargs docker stop"],
    ['stop by version, by name (one docker command)', app(c, 'workers').stopByName('123'), 'docker stop -t 30 app-workers-123'],
    ['clash check', app(c).containerIdForVersion('999'), "docker container ls --all --filter 'name=^app-web-999$' --quiet"],
    ['rename clash', app(c).rename('app-web-999', 'app-web-999_replaced_0123456789abcdef'), 'docker rename app-web-999 app-web-999_replaced_0123456789abcdef'],
    [
      'readiness status',
      app(c, 'workers').status('999'),
      "docker container ls --all --filter 'name=^app-workers-999$' --quiet | xargs docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}'",
    ],
    ['readiness status by name (the first question, with docker run)', app(c, 'workers').statusByName('999'), "docker container inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' app-workers-999"],
    ['container logs', app(c).logs('999'), "docker container ls --all --filter 'name=^app-web-999$' --quiet | xargs docker logs --timestamps 2>&1"],
    [
      'list running versions (stale containers)',
      app(configFromYaml(APP, { destination: 'staging' })).listVersions(),
      'docker ps --filter label=service=app --filter label=destination=staging --filter label=role=web --format "{{.Names}}" | while read line; do echo ${line#app-web-staging-}; done',
    ],
    ['tag latest', app(c).tagLatestImage(), 'docker tag dhh/app:999 dhh/app:latest'],
    ['tag latest with destination', app(configFromYaml(APP, { destination: 'staging' })).tagLatestImage(), 'docker tag dhh/app:999 dhh/app:latest-staging'],
  ]
  test.each(rows)('%s', (_name, actual, expected) => {
    expect(actual).toBe(expected)
  })

  test('the stale survey: the running versions, a marker, the current version; read back into both', () => {
    const survey = app(c).staleSurvey()
    expect(survey).toBe(`${app(c).listVersions()}; echo =current=; ${app(c).currentRunningVersion()}`)
    expect(parseStaleSurvey('123\n122\n=current=\n123\n')).toEqual({ versions: ['123', '122'], current: '123' })
    expect(parseStaleSurvey('=current=\n')).toEqual({ versions: [], current: '' })
    // No marker (the output was cut short): nothing is known to be stale, so nothing is stopped.
    expect(parseStaleSurvey('123\n')).toEqual({ versions: [], current: '' })
  })

  test("which version kamal-proxy routes the role's service to: its row of `kamal-proxy list`, matched to a running container by id or name", () => {
    expect(app(c).servingSurvey()).toBe(`docker exec kamal-proxy kamal-proxy list ; echo =running=; docker ps --filter label=service=app --filter label=destination= --filter label=role=web --format '{{.ID}} {{.Names}}'`)
    const list = [
      'Service          Host          Path  Target                              State    TLS',
      'app-web-staging  staging.test  /     0123456789ab:80                     running  no',
      'app-web          app.test      /     ad525b5072ef:80,bbbbbbbbbbbb:3000   running  no',
      'other-web        *             /     ad525b5072ff:80                     running  no',
    ].join('\n')
    const containers = ['ad525b5072ef app-web-122', '0123456789ab app-web-121', 'cccccccccccc app-web-123'].join('\n')
    expect(parseServingVersion(`${list}\n=running=\n${containers}\n`, 'app-web', 'app-web')).toBe('122')
    // a target given as the container's name
    expect(parseServingVersion(`Service Host Path Target State TLS\napp-web app.test / app-web-123:80 running no\n=running=\n${containers}\n`, 'app-web', 'app-web')).toBe('123')
    // routed to no running container of the role, no row for the service, kamal-proxy not answering, output cut short
    expect(parseServingVersion(`${list}\n=running=\ncccccccccccc app-web-123\n`, 'app-web', 'app-web')).toBeUndefined()
    expect(parseServingVersion(`${list}\n=running=\n${containers}\n`, 'app-workers', 'app-workers')).toBeUndefined()
    expect(parseServingVersion(`Error: No such container: kamal-proxy\n=running=\n${containers}\n`, 'app-web', 'app-web')).toBeUndefined()
    expect(parseServingVersion(list, 'app-web', 'app-web')).toBeUndefined()
  })

  test('stop_timeout on a role wins over drain_timeout; root stop_timeout applies to every role', () => {
    const roles = configFromYaml(APP.replace(/servers:[\s\S]*?env:/, 'servers:\n  web: { hosts: ["1.1.1.1"], stop_timeout: 30 }\n  workers: { hosts: ["1.1.1.2"], cmd: bin/jobs, stop_timeout: 60 }\nenv:'))
    expect(app(roles).stop()).toBe(`${CURRENT_WEB} | xargs docker stop -t 30`)
    expect(app(roles, 'workers').stop()).toBe(`${CURRENT_WORKERS} | xargs docker stop -t 60`)
    const drain = withApp('drain_timeout: 20\n')
    expect(app(drain).stop()).toBe(`${CURRENT_WEB} | xargs docker stop`)
    expect(app(drain, 'workers').stop()).toBe(`${CURRENT_WORKERS} | xargs docker stop -t 20`)
  })
})

describe('prune (spec §1.8)', () => {
  const prune = new PruneCommands(withApp(''))
  test.each([
    ['containers', prune.containers(), 'docker ps -q -a --filter label=service=app --filter status=created --filter status=exited --filter status=dead | tail -n +6 | while read container_id; do docker rm $container_id; done'],
    ['containers, retain 3', prune.containers(3), 'docker ps -q -a --filter label=service=app --filter status=created --filter status=exited --filter status=dead | tail -n +4 | while read container_id; do docker rm $container_id; done'],
    ['dangling images', prune.danglingImages(), 'docker image prune --force --filter label=service=app'],
    [
      'tagged images',
      prune.taggedImages(),
      "docker image ls --filter label=service=app --format '{{.ID}} {{.Repository}}:{{.Tag}}' | grep -v -w \"$(docker container ls -a --format '{{.Image}}\\|' --filter label=service=app | tr -d '\\n')dhh/app:latest\\|dhh/app:<none>\" | while read image tag; do docker rmi $tag; done",
    ],
  ])('%s', (_name, actual, expected) => expect(actual).toBe(expected))

  test('retain_containers from the config', () => {
    expect(new PruneCommands(withApp('retain_containers: 2\n')).containers()).toContain('tail -n +3 |')
  })
})

describe('lock (spec §1.9, §3.2)', () => {
  const lock = new LockCommands(withApp(''))
  const staging = new LockCommands(withApp('', { destination: 'staging' }))
  const details = lockDetails({ lockedBy: 'Deployer', at: new Date('2024-01-01T12:00:00.123Z'), version: 'abc123', message: 'Automatic deploy lock' })

  test('details text', () => {
    expect(details).toBe('Locked by: Deployer at 2024-01-01T12:00:00Z\nVersion: abc123\nMessage: Automatic deploy lock')
  })
  test('MIME base64 with 60-character lines, decodable by base64 -d', () => {
    const encoded = mimeBase64(details)
    expect(encoded.split('\n').slice(0, -2).every((row) => row.length === 60)).toBe(true)
    expect(encoded.endsWith('\n')).toBe(true)
    expect(Buffer.from(encoded.replace(/\n/g, ''), 'base64').toString()).toBe(details)
  })
  test.each([
    ['acquire', lock.acquire(details), `mkdir .kamal/lock-app && echo "${mimeBase64(details)}" > .kamal/lock-app/details`],
    ['release', lock.release(), 'rm .kamal/lock-app/details && rm -r .kamal/lock-app'],
    ['status', lock.status(), 'stat .kamal/lock-app > /dev/null && cat .kamal/lock-app/details | base64 -d'],
    ['release with destination', staging.release(), 'rm .kamal/lock-app-staging/details && rm -r .kamal/lock-app-staging'],
  ])('%s', (_name, actual, expected) => expect(actual).toBe(expected))
})

describe('audit (spec §3.3)', () => {
  const at = () => new Date('2024-01-01T12:00:00Z')
  test('a line with performer, destination and role', () => {
    const auditor = new Auditor(withApp('', { destination: 'staging' }), 'deployer@example.com', at)
    expect(auditor.record('Booted app version 999', { role: 'web' })).toBe(
      'mkdir -p .kamal && echo "[2024-01-01T12:00:00Z] [deployer@example.com] [staging] [web] Booted app version 999" >> .kamal/app-staging-audit.log',
    )
  })
  test('without destination', () => {
    const auditor = new Auditor(withApp(''), 'deployer@example.com', at)
    expect(auditor.record('Pulled image with version 999')).toBe(
      'mkdir -p .kamal && echo "[2024-01-01T12:00:00Z] [deployer@example.com] Pulled image with version 999" >> .kamal/app-audit.log',
    )
  })
})

describe('kamal-proxy (spec §2.5, §2.6, §1.6)', () => {
  const plain = withApp('')
  const withRoles = configFromYaml(APP_WITH_ROLES, { version: 'V' })
  test.each([
    [
      'deploy, minimal',
      proxyDeploy(plain, role(plain, 'web'), '172.1.0.2'),
      'docker exec kamal-proxy kamal-proxy deploy app-web --target="172.1.0.2:80" --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"',
    ],
    [
      'deploy with SSL and a host',
      (() => { const c = withApp('proxy: { host: example.com, ssl: true }\n'); return proxyDeploy(c, role(c, 'web'), '172.1.0.2') })(),
      'docker exec kamal-proxy kamal-proxy deploy app-web --target="172.1.0.2:80" --host="example.com" --tls --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"',
    ],
    [
      'deploy for app_with_roles (spec §1.10)',
      proxyDeploy(withRoles, role(withRoles, 'web'), 'cid'),
      'docker exec kamal-proxy kamal-proxy deploy app_with_roles-web --target="cid:80" --host="localhost" --deploy-timeout="2s" --drain-timeout="2s" --health-check-interval="1s" --health-check-timeout="1s" --health-check-path="/up" --target-timeout="2s" --buffer-requests="false" --buffer-responses="false" --buffer-memory="400000" --max-request-body="40000000" --max-response-body="40000000" --forward-headers --log-request-header="Cache-Control" --log-request-header="X-Forwarded-Proto" --log-response-header="X-Request-ID" --log-response-header="X-Request-Start" --error-pages="/home/kamal-proxy/.apps-config/app_with_roles/error_pages/V"',
    ],
    [
      'deploy with hosts, path prefixes, app_port, custom certificate',
      (() => {
        const c = withApp('proxy:\n  hosts: [a.example.com, b.example.com]\n  app_port: 3000\n  path_prefix: /api,/v2\n  strip_path_prefix: false\n  ssl: { certificate_pem: CERT, private_key_pem: KEY }\n  ssl_redirect: false\n')
        return proxyDeploy(c, role(c, 'web'), 'abc')
      })(),
      'docker exec kamal-proxy kamal-proxy deploy app-web --target="abc:3000" --host="a.example.com" --host="b.example.com" --tls --tls-certificate-path="/home/kamal-proxy/.apps-config/app/tls/web/cert.pem" --tls-private-key-path="/home/kamal-proxy/.apps-config/app/tls/web/key.pem" --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --path-prefix="/api" --path-prefix="/v2" --strip-path-prefix="false" --tls-redirect="false" --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"',
    ],
    [
      'run with proxy.run (spec §1.10)',
      proxyStartOrRun(withRoles, 'vm1'),
      'docker container start kamal-proxy || docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m registry:4443/basecamp/kamal-proxy:v0.9.2 kamal-proxy run',
    ],
    [
      'run without proxy.run: boot-config files',
      proxyRun(plain, '1.1.1.1'),
      'echo $(cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m") $(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2") $(cat .kamal/proxy/run_command 2> /dev/null || echo "") | xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config',
    ],
    [
      'run with ports, bind IPs, metrics, debug and options',
      (() => {
        const c = withApp('proxy:\n  run:\n    http_port: 8080\n    https_port: 8443\n    bind_ips: [127.0.0.1, "::1"]\n    metrics_port: 9090\n    debug: true\n    log_max_size: 50m\n    options: { cpus: 1 }\n')
        return proxyRun(c, '1.1.1.1')
      })(),
      'docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 127.0.0.1:8080:80 --publish 127.0.0.1:8443:443 --publish [::1]:8080:80 --publish [::1]:8443:443 --log-opt max-size=50m --expose=9090 --cpus "1" basecamp/kamal-proxy:v0.9.2 kamal-proxy run --debug --metrics-port "9090"',
    ],
    ['run with publish: false', proxyRun(withApp('proxy:\n  run: { publish: false }\n'), '1.1.1.1'), 'docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --log-opt max-size=10m basecamp/kamal-proxy:v0.9.2 kamal-proxy run'],
    ['network', createNetwork(), 'docker network create kamal'],
    ['version check', proxyImageVersion(), "docker inspect kamal-proxy --format '{{.Config.Image}}' | awk -F: '{print $NF}'"],
    ['apps-config directory', ensureProxyAppsDirectory(), 'mkdir -p .kamal/proxy/apps-config'],
    ['maintenance', proxyStop(role(plain, 'web'), 30, 'Back soon'), 'docker exec kamal-proxy kamal-proxy stop app-web --drain-timeout="30s" --message="Back soon"'],
    ['live', proxyResume(role(plain, 'web')), 'docker exec kamal-proxy kamal-proxy resume app-web'],
    ['remove', proxyRemove(role(plain, 'web')), 'docker exec kamal-proxy kamal-proxy remove app-web'],
  ])('%s', (_name, actual, expected) => expect(actual).toBe(expected))
})

describe('registry and build (spec §1.10, §2.2, §4.1)', () => {
  const withRoles = configFromYaml(APP_WITH_ROLES, { version: 'V' })
  test.each([
    ['login: password on stdin, never in argv', registryLogin(withRoles, 'root') ?? '', 'docker login registry:4443 -u "root" --password-stdin'],
    ['pull: remove, pull, check the service label', pullCommands(withRoles).join('\n'), [
      'docker image rm --force registry:4443/app_with_roles:V',
      'docker pull registry:4443/app_with_roles:V',
      `docker inspect -f '{{ .Config.Labels.service }}' registry:4443/app_with_roles:V | grep -x app_with_roles || (echo "Image registry:4443/app_with_roles:V is missing the 'service' label" && exit 1)`,
    ].join('\n')],
    ['build with driver docker', buildCommand(withRoles), 'docker buildx build --output=type=registry --platform linux/amd64 -t registry:4443/app_with_roles:V -t registry:4443/app_with_roles:latest --label service="app_with_roles" --build-arg COMMIT_SHA="V" --file Dockerfile . 2>&1'],
    ['build with the default builder', buildCommand(withApp('')), 'docker buildx build --output=type=registry --platform linux/amd64 --builder kamal-local-docker-container -t dhh/app:999 -t dhh/app:latest --label service="app" --file Dockerfile . 2>&1'],
    ['build args redacted for display', buildCommand(withRoles, { redactArgs: true }), 'docker buildx build --output=type=registry --platform linux/amd64 -t registry:4443/app_with_roles:V -t registry:4443/app_with_roles:latest --label service="app_with_roles" --build-arg COMMIT_SHA=[REDACTED] --file Dockerfile . 2>&1'],
  ])('%s', (_name, actual, expected) => expect(actual).toBe(expected))

  test('no login for a local registry', () => {
    expect(registryLogin(configFromYaml('service: app\nregistry: { server: "localhost:5555" }\nservers: [1.1.1.1]\nbuilder: { arch: amd64 }\n'), 'x')).toBeUndefined()
  })
  test('gha cache reads only the read-side options', () => {
    const c = withApp('builder: { arch: amd64, cache: { type: gha, options: "mode=max,scope=app,url=http://cache" } }\n')
    expect(buildCommand(c)).toContain('--cache-to type=gha,mode=max,scope=app,url=http://cache --cache-from type=gha,scope=app,url=http://cache')
  })
})
