import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { accessoryBootStages } from '../src/plan/accessory-plan'
import { describeStep } from '../src/plan/render'
import { Auditor } from '../src/commands/auditor'
import { AccessoryCommands } from '../src/commands/accessory'
import { accessoryEnvValues, accessoryFileContent, accessorySettings, fileJoin } from '../src/config/accessory'
import type { KamalConfig } from '../src/config/model'
import { ConfigError } from '../src/errors'
import { configFromYaml } from './support/config'

const PROJECT = '/project'

// Kamal's test/commands/accessory_test.rb config, as YAML.
const COMMANDS = `
service: app
image: dhh/app
registry: { server: private.registry, username: dhh, password: secret }
servers: ["1.1.1.1"]
builder: { arch: amd64 }
accessories:
  mysql:
    image: private.registry/mysql:8.0
    host: 1.1.1.5
    port: "3306"
    env:
      clear: { MYSQL_ROOT_HOST: "%" }
      secret: [MYSQL_ROOT_PASSWORD]
    options: { cpus: "4", memory: 2GB }
  redis:
    image: redis:latest
    host: 1.1.1.6
    port: "6379:6379"
    labels: { cache: "true" }
    env: { SOMETHING: else }
    volumes: [/var/lib/redis:/data]
  busybox:
    service: custom-busybox
    image: busybox:latest
    registry: { server: other.registry, username: user, password: pw }
    host: 1.1.1.7
    proxy: { host: busybox.example.com }
`

// Kamal's test/fixtures/deploy_with_accessories_with_different_registries.yml (used by test/cli/accessory_test.rb).
const CLI = `
service: app
image: dhh/app
servers:
  web: ["1.1.1.1", "1.1.1.2"]
  workers: ["1.1.1.3", "1.1.1.4"]
registry: { server: private.registry, username: user, password: pw }
builder: { arch: amd64 }
accessories:
  mysql:
    image: private.registry/mysql:5.7
    host: 1.1.1.3
    port: 3306
    env:
      clear: { MYSQL_ROOT_HOST: '%' }
      secret: [MYSQL_ROOT_PASSWORD]
    files:
      - test/fixtures/files/my.cnf:/etc/mysql/my.cnf
    directories:
      - data:/var/lib/mysql
  redis:
    image: redis:latest
    roles: [web]
    port: 6379
    directories:
      - data:/data
  busybox:
    service: custom-box
    image: busybox:latest
    host: 1.1.1.3
    registry: { server: other.registry, username: other_user, password: other_pw }
readiness_delay: 0
`

// Kamal's test/configuration/accessory_test.rb config, as YAML.
const CONFIGURATION = `
service: app
image: dhh/app
registry: { username: dhh, password: secret }
servers:
  web: [{ "1.1.1.1": writer }, { "1.1.1.2": reader }]
  workers: [{ "1.1.1.3": writer }, "1.1.1.4"]
builder: { arch: amd64 }
env: { REDIS_URL: "redis://x/y" }
accessories:
  mysql:
    image: public.registry/mysql:8.0
    host: 1.1.1.5
    port: "3306"
    env:
      clear: { MYSQL_ROOT_HOST: "%" }
      secret: [MYSQL_ROOT_PASSWORD]
    files:
      - config/mysql/my.cnf:/etc/mysql/my.cnf
      - db/structure.sql:/docker-entrypoint-initdb.d/structure.sql
    directories:
      - data:/var/lib/mysql
  redis:
    image: redis:latest
    hosts: ["1.1.1.6", "1.1.1.7"]
    port: "6379:6379"
    labels: { cache: "true" }
    env: { SOMETHING: else }
    volumes: [/var/lib/redis:/data]
    options: { cpus: "4", memory: 2GB }
  monitoring:
    service: custom-monitoring
    image: monitoring:latest
    registry: { server: other.registry, username: user, password: pw }
    role: web
    port: "4321:4321"
    labels: { cache: "true" }
    env: { STATSD_PORT: "8126" }
    options: { cpus: "4", memory: 2GB }
    proxy: { host: monitoring.example.com }
  proxy:
    image: proxy:latest
    tags: [writer, reader]
  logger:
    image: logger:latest
    tag: writer
`

const commands = (config: KamalConfig, name: string) => new AccessoryCommands(config, accessorySettings(config, name, PROJECT))
const withMysql = (yaml: string, mysqlExtra: string) => configFromYaml(yaml.replace('    image: public.registry/mysql:8.0\n', `    image: public.registry/mysql:8.0\n${mysqlExtra}`))
const secrets: Record<string, string> = { MYSQL_ROOT_PASSWORD: 'secret123', SECRET_VAR: 'secret_env_value' }
const secretValue = (key: string) => {
  if (!(key in secrets)) throw new Error(`no secret ${key}`)
  return secrets[key]
}

describe('accessory commands (Kamal test/commands/accessory_test.rb)', () => {
  const config = configFromYaml(COMMANDS)
  const mysql = commands(config, 'mysql')
  const redis = commands(config, 'redis')
  const busybox = commands(config, 'busybox')
  const withOptions = (extra: string) => commands(configFromYaml(COMMANDS.replace('    options: { cpus: "4", memory: 2GB }\n', `    options: { cpus: "4", memory: 2GB${extra} }\n`)), 'mysql')

  test.each([
    [
      'run mysql',
      mysql.run(),
      'docker run --name app-mysql --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --publish 3306:3306 --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --label service="app-mysql" --cpus "4" --memory "2GB" private.registry/mysql:8.0',
    ],
    [
      'run redis: labels and volumes',
      redis.run(),
      'docker run --name app-redis --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --publish 6379:6379 --env SOMETHING="else" --env-file .kamal/apps/app/env/accessories/redis.env --volume /var/lib/redis:/data --label service="app-redis" --label cache="true" redis:latest',
    ],
    [
      'run busybox: own service name and registry',
      busybox.run(),
      'docker run --name custom-busybox --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --env-file .kamal/apps/app/env/accessories/busybox.env --label service="custom-busybox" other.registry/busybox:latest',
    ],
    [
      'run with logging config (root logging)',
      commands(configFromYaml(COMMANDS + 'logging: { driver: local, options: { max-size: 100m, max-file: "3" } }\n'), 'busybox').run(),
      'docker run --name custom-busybox --detach --restart unless-stopped --network kamal --log-driver "local" --log-opt max-size="100m" --log-opt max-file="3" --env-file .kamal/apps/app/env/accessories/busybox.env --label service="custom-busybox" other.registry/busybox:latest',
    ],
    [
      'run with custom restart policy',
      withOptions(', restart: on-failure').run(),
      'docker run --name app-mysql --detach --restart on-failure --network kamal --log-opt max-size="10m" --publish 3306:3306 --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --label service="app-mysql" --cpus "4" --memory "2GB" private.registry/mysql:8.0',
    ],
    [
      'run in custom network',
      commands(configFromYaml(COMMANDS.replace('    host: 1.1.1.5\n', '    host: 1.1.1.5\n    network: custom\n')), 'mysql').run(),
      'docker run --name app-mysql --detach --restart unless-stopped --network custom --log-opt max-size="10m" --publish 3306:3306 --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --label service="app-mysql" --cpus "4" --memory "2GB" private.registry/mysql:8.0',
    ],
    ['start', mysql.start(), 'docker container start app-mysql'],
    ['stop', mysql.stop(), 'docker container stop app-mysql'],
    ['info', mysql.info(), 'docker ps --filter label=service=app-mysql'],
    ['info, all and quiet (boot: does the container exist?)', mysql.info({ all: true, quiet: true }), 'docker ps -a -q --filter label=service=app-mysql'],
    [
      'execute in new container',
      mysql.executeInNewContainer('mysql -u root'),
      'docker run --rm --network kamal --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --cpus "4" --memory "2GB" private.registry/mysql:8.0 mysql -u root',
    ],
    [
      'execute in new container excludes restart policy',
      withOptions(', restart: on-failure').executeInNewContainer('mysql -u root'),
      'docker run --rm --network kamal --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --cpus "4" --memory "2GB" private.registry/mysql:8.0 mysql -u root',
    ],
    ['execute in existing container', mysql.executeInExistingContainer('mysql -u root'), 'docker exec app-mysql mysql -u root'],
    ['logs', mysql.logs(), 'docker logs app-mysql --timestamps 2>&1'],
    ['logs since/tail/grep', mysql.logs({ since: '5m', lines: 100, grep: 'thing' }), "docker logs app-mysql  --since 5m  --tail 100 --timestamps 2>&1 | grep 'thing'"],
    ['logs with grep options', mysql.logs({ since: '5m', lines: 100, grep: 'thing', grepOptions: '-C 2' }), "docker logs app-mysql  --since 5m  --tail 100 --timestamps 2>&1 | grep 'thing' -C 2"],
    ['logs without timestamps', mysql.logs({ timestamps: false, since: '5m', lines: 100, grep: 'thing', grepOptions: '-C 2' }), "docker logs app-mysql  --since 5m  --tail 100 2>&1 | grep 'thing' -C 2"],
    ['remove container', mysql.removeContainer(), 'docker container prune --force --filter label=service=app-mysql'],
    ['pull image', mysql.pullImage(), 'docker image pull private.registry/mysql:8.0'],
    ['remove image', mysql.removeImage(), 'docker image rm --force private.registry/mysql:8.0'],
    ['remove service directory', mysql.removeServiceDirectory(), 'rm -rf app-mysql'],
    [
      'proxy deploy',
      busybox.deploy('172.1.0.2'),
      'docker exec kamal-proxy kamal-proxy deploy custom-busybox --target="172.1.0.2:80" --host="busybox.example.com" --deploy-timeout="30s" --drain-timeout="30s" --buffer-requests --buffer-responses --log-request-header="Cache-Control" --log-request-header="Last-Modified" --log-request-header="User-Agent"',
    ],
    ['proxy remove', busybox.removeFromProxy(), 'docker exec kamal-proxy kamal-proxy remove custom-busybox'],
    ['running container id (proxy target)', busybox.runningContainerId(), "docker container ls --filter 'name=^custom-busybox$' --quiet"],
    ['env file path', mysql.envFilePath, '.kamal/apps/app/env/accessories/mysql.env'],
    ['env file path with destination', commands(configFromYaml(COMMANDS, { destination: 'staging' }), 'mysql').envFilePath, '.kamal/apps/app-staging/env/accessories/mysql.env'],
    ['registry login: own registry, password on stdin', busybox.registryLogin('user') ?? '', 'docker login other.registry -u "user" --password-stdin'],
  ])('%s', (_name, actual, expected) => expect(actual).toBe(expected))

  test('no own registry: no accessory login (the root registry is used)', () => {
    expect(mysql.registryLogin('dhh')).toBeUndefined()
  })

  test('proxy deploy needs a proxy block', () => {
    expect(() => mysql.deploy('x')).toThrow('Accessory mysql has no proxy configuration')
  })

  test('env file: secrets (Kamal: "MYSQL_ROOT_PASSWORD=secret123\\n"), or a lone newline', () => {
    expect(mysql.envFileContent(secretValue)).toBe('MYSQL_ROOT_PASSWORD=secret123\n')
    expect(redis.envFileContent(secretValue)).toBe('\n')
  })
})

describe('accessory boot on a host (Kamal test/cli/accessory_test.rb)', () => {
  const config = configFromYaml(CLI)

  test.each([
    [
      'mysql with a file and a directory',
      commands(config, 'mysql').run('1.1.1.3'),
      'docker run --name app-mysql --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --publish 3306:3306 --env KAMAL_HOST="1.1.1.3" --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/mysql.env --volume $PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf --volume $PWD/app-mysql/data:/var/lib/mysql --label service="app-mysql" private.registry/mysql:5.7',
    ],
    [
      'redis on a role host',
      commands(config, 'redis').run('1.1.1.1'),
      'docker run --name app-redis --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --publish 6379:6379 --env KAMAL_HOST="1.1.1.1" --env-file .kamal/apps/app/env/accessories/redis.env --volume $PWD/app-redis/data:/data --label service="app-redis" redis:latest',
    ],
    [
      'busybox with its own registry',
      commands(config, 'busybox').run('1.1.1.3'),
      'docker run --name custom-box --detach --restart unless-stopped --network kamal --log-opt max-size="10m" --env KAMAL_HOST="1.1.1.3" --env-file .kamal/apps/app/env/accessories/busybox.env --label service="custom-box" other.registry/busybox:latest',
    ],
  ])('run: %s', (_name, actual, expected) => expect(actual).toBe(expected))

  test('upload: mkdir for the file, upload target, chmod 755', () => {
    const [upload] = commands(config, 'mysql').fileUploads()
    expect(upload.before).toBe('mkdir -p app-mysql/etc/mysql')
    expect(upload.remotePath).toBe('app-mysql/etc/mysql/my.cnf')
    expect(upload.after).toEqual(['chmod 755 app-mysql/etc/mysql/my.cnf'])
    expect(upload.file.localPath).toBe(path.join(PROJECT, 'test/fixtures/files/my.cnf'))
    expect(upload.file.erb).toBe(false)
  })

  test('directories: mkdir -p under $PWD/<service>', () => {
    expect(commands(config, 'mysql').directoryCommands()).toEqual(['mkdir -p $PWD/app-mysql/data'])
  })

  test('placement by role', () => {
    expect(accessorySettings(config, 'redis', PROJECT).hosts).toEqual(['1.1.1.1', '1.1.1.2'])
  })

  test('unknown accessory: Kamal\'s message with the options', () => {
    expect(() => accessorySettings(config, 'hello', PROJECT)).toThrow("No accessory by the name of 'hello' (options: mysql, redis, busybox)")
  })
})

describe('accessory configuration (Kamal test/configuration/accessory_test.rb)', () => {
  const config = configFromYaml(CONFIGURATION)
  const settings = (name: string, c = config) => accessorySettings(c, name, PROJECT)

  test('service name, image, registry, port', () => {
    expect(['mysql', 'redis', 'monitoring'].map((name) => settings(name).service)).toEqual(['app-mysql', 'app-redis', 'custom-monitoring'])
    expect(['mysql', 'redis', 'monitoring'].map((name) => settings(name).image)).toEqual(['public.registry/mysql:8.0', 'redis:latest', 'other.registry/monitoring:latest'])
    expect(settings('mysql').registry).toBeUndefined()
    expect(settings('monitoring').registry).toEqual({ server: 'other.registry', username: 'user', password: 'pw', local: false })
    expect(settings('mysql').port).toBe('3306:3306')
    expect(settings('redis').port).toBe('6379:6379')
  })

  test('hosts by host, hosts, role, tags, tag', () => {
    expect(settings('mysql').hosts).toEqual(['1.1.1.5'])
    expect(settings('redis').hosts).toEqual(['1.1.1.6', '1.1.1.7'])
    expect(settings('monitoring').hosts).toEqual(['1.1.1.1', '1.1.1.2'])
    expect(settings('proxy').hosts).toEqual(['1.1.1.1', '1.1.1.3', '1.1.1.2'])
    expect(settings('logger').hosts).toEqual(['1.1.1.1', '1.1.1.3'])
  })

  test('label, env, volume and option args', () => {
    const mysql = new AccessoryCommands(config, settings('mysql'))
    const redis = new AccessoryCommands(config, settings('redis'))
    expect(mysql.envArgs()).toEqual(['--env', 'MYSQL_ROOT_HOST="%"', '--env-file', '.kamal/apps/app/env/accessories/mysql.env'])
    expect(redis.envArgs()).toEqual(['--env', 'SOMETHING="else"', '--env-file', '.kamal/apps/app/env/accessories/redis.env'])
    expect(mysql.volumeArgs()).toEqual([
      '--volume', '$PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf',
      '--volume', '$PWD/app-mysql/docker-entrypoint-initdb.d/structure.sql:/docker-entrypoint-initdb.d/structure.sql',
      '--volume', '$PWD/app-mysql/data:/var/lib/mysql',
    ])
    expect(redis.volumeArgs()).toEqual(['--volume', '/var/lib/redis:/data'])
    expect(redis.optionArgs()).toEqual(['--cpus', '"4"', '--memory', '"2GB"'])
    expect(redis.networkArgs()).toEqual(['--network', 'kamal'])
    expect(settings('redis').restartPolicy).toBe('unless-stopped')
  })

  test('named docker volume', () => {
    const c = configFromYaml(CONFIGURATION.replace('volumes: [/var/lib/redis:/data]', 'volumes: ["redis_data:/data"]'))
    expect(new AccessoryCommands(c, settings('redis', c)).volumeArgs()).toEqual(['--volume', 'redis_data:/data'])
  })

  test('restart policy comes out of the options', () => {
    const c = configFromYaml(CONFIGURATION.replace('    options: { cpus: "4", memory: 2GB }\n  monitoring', '    options: { cpus: "4", memory: 2GB, restart: always }\n  monitoring'))
    expect(settings('redis', c).restartPolicy).toBe('always')
    expect(new AccessoryCommands(c, settings('redis', c)).optionArgs()).toEqual(['--cpus', '"4"', '--memory', '"2GB"'])
  })

  test.each([
    ['directory with a relative path', 'directories: ["data:/var/lib/mysql"]', { hostDirectory: '$PWD/app-mysql/data', volumeHostPath: 'app-mysql/data', containerPath: '/var/lib/mysql' }, ['--volume', '$PWD/app-mysql/data:/var/lib/mysql']],
    ['directory with an absolute path', 'directories: ["/var/data/mysql:/var/lib/mysql"]', { hostDirectory: '/var/data/mysql', volumeHostPath: '/var/data/mysql', containerPath: '/var/lib/mysql' }, ['--volume', '/var/data/mysql:/var/lib/mysql']],
    ['directory with mount options', 'directories: ["data:/var/lib/mysql:z"]', { hostDirectory: '$PWD/app-mysql/data', options: 'z' }, ['--volume', '$PWD/app-mysql/data:/var/lib/mysql:z']],
    ['directory hash with mode', 'directories: [{ local: data, remote: /var/lib/mysql, mode: "0750" }]', { mode: '0750', owner: undefined }, ['--volume', '$PWD/app-mysql/data:/var/lib/mysql']],
    ['directory hash with owner', 'directories: [{ local: data, remote: /var/lib/mysql, owner: "mysql:mysql" }]', { mode: undefined, owner: 'mysql:mysql' }, ['--volume', '$PWD/app-mysql/data:/var/lib/mysql']],
    ['directory hash with everything', 'directories: [{ local: data, remote: /var/lib/mysql, mode: "0750", owner: "1000:1000", options: z }]', { mode: '0750', owner: '1000:1000', options: 'z' }, ['--volume', '$PWD/app-mysql/data:/var/lib/mysql:z']],
  ])('%s', (_name, yaml, expected, volumes) => {
    const c = configFromYaml(CONFIGURATION.replace(/ {4}files:\n.*\n.*\n {4}directories:\n.*\n/, `    files: []\n    ${yaml}\n`))
    const mysql = settings('mysql', c)
    expect(mysql.directories).toHaveLength(1)
    expect(mysql.directories[0]).toMatchObject(expected)
    expect(new AccessoryCommands(c, mysql).volumeArgs()).toEqual(volumes)
  })

  test.each([
    ['file with mount options', 'files: ["config/mysql/my.cnf:/etc/mysql/my.cnf:ro,z"]', { options: 'ro,z', mode: '755', owner: undefined }, ['--volume', '$PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf:ro,z']],
    ['file string form: default mode 755', 'files: ["config/mysql/my.cnf:/etc/mysql/my.cnf"]', { mode: '755', owner: undefined }, ['--volume', '$PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf']],
    ['file hash with mode', 'files: [{ local: config/mysql/my.cnf, remote: /etc/mysql/my.cnf, mode: "0600" }]', { mode: '0600', owner: undefined }, ['--volume', '$PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf']],
    ['file hash with owner', 'files: [{ local: config/mysql/my.cnf, remote: /etc/mysql/my.cnf, owner: "mysql:mysql" }]', { mode: '755', owner: 'mysql:mysql' }, ['--volume', '$PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf']],
    ['file hash with everything', 'files: [{ local: config/mysql/my.cnf, remote: /etc/mysql/my.cnf, mode: "0640", owner: "1000:1000", options: Z }]', { mode: '0640', owner: '1000:1000', options: 'Z' }, ['--volume', '$PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf:Z']],
  ])('%s', (_name, yaml, expected, volumes) => {
    const c = configFromYaml(CONFIGURATION.replace(/ {4}files:\n.*\n.*\n {4}directories:\n.*\n/, `    ${yaml}\n    directories: []\n`))
    const mysql = settings('mysql', c)
    expect(mysql.files).toHaveLength(1)
    expect(mysql.files[0]).toMatchObject({ hostPath: 'app-mysql/etc/mysql/my.cnf', containerPath: '/etc/mysql/my.cnf', ...expected })
    expect(new AccessoryCommands(c, mysql).volumeArgs()).toEqual(volumes)
  })

  test('upload and directory commands with mode and owner', () => {
    const c = configFromYaml(
      CONFIGURATION.replace(
        / {4}files:\n.*\n.*\n {4}directories:\n.*\n/,
        '    files: [{ local: config/mysql/my.cnf, remote: /etc/mysql/my.cnf, mode: "0640", owner: "1000:1000" }]\n    directories: [{ local: data, remote: /var/lib/mysql, mode: "0750", owner: "mysql:mysql" }]\n',
      ),
    )
    const mysql = new AccessoryCommands(c, settings('mysql', c))
    expect(mysql.fileUploads().map(({ before, remotePath, after }) => ({ before, remotePath, after }))).toEqual([
      { before: 'mkdir -p app-mysql/etc/mysql', remotePath: 'app-mysql/etc/mysql/my.cnf', after: ['chmod 0640 app-mysql/etc/mysql/my.cnf', 'chown 1000:1000 app-mysql/etc/mysql/my.cnf'] },
    ])
    expect(mysql.directoryCommands()).toEqual(['mkdir -p $PWD/app-mysql/data', 'chmod 0750 $PWD/app-mysql/data', 'chown mysql:mysql $PWD/app-mysql/data'])
  })

  test('the same local file twice is one entry (Kamal keys files by path), the later one winning', () => {
    const c = withMysql(CONFIGURATION.replace(/ {4}files:\n.*\n.*\n/, ''), '    files: ["a.cnf:/etc/one.cnf", "b.cnf:/etc/b.cnf", "a.cnf:/etc/two.cnf"]\n')
    expect(settings('mysql', c).files.map((file) => file.containerPath)).toEqual(['/etc/two.cnf', '/etc/b.cnf'])
  })

  test('proxy settings', () => {
    expect(settings('monitoring').proxy).toMatchObject({ hosts: ['monitoring.example.com'], ssl: false, appPort: 80, path: ['accessories', 'monitoring', 'proxy'] })
    expect(settings('mysql').proxy).toBeUndefined()
  })

  test('Ruby File.join', () => {
    expect(fileJoin('$PWD/app-mysql', 'data')).toBe('$PWD/app-mysql/data')
    expect(fileJoin('app-mysql/', '/data')).toBe('app-mysql/data')
    expect(fileJoin('a', '/b')).toBe('a/b')
  })
})

describe('accessory files: ERB and missing files (real files in a temp dir)', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kamal-accessory-'))
    fs.mkdirSync(path.join(dir, 'db'))
    fs.writeFileSync(path.join(dir, 'db/structure.sql.erb'), '<%= "Rendered from a template" %>\nhost=<%= ENV["MYSQL_ROOT_HOST"] %>\npassword=<%= ENV["MYSQL_ROOT_PASSWORD"] %>\naliased=<%= ENV["ENV_VAR"] %>\nfrom the step=<%= ENV["FROM_STEP"] %>\n')
    fs.writeFileSync(path.join(dir, 'db/plain.sql'), 'select 1; -- <%= not rendered %>\n')
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  const configIn = () =>
    configFromYaml(
      CONFIGURATION.replace(/ {4}files:\n.*\n.*\n/, '    files:\n      - db/structure.sql.erb:/docker-entrypoint-initdb.d/structure.sql\n      - db/plain.sql:/docker-entrypoint-initdb.d/plain.sql\n').replace(
        '      secret: [MYSQL_ROOT_PASSWORD]',
        '      secret: [MYSQL_ROOT_PASSWORD, "ENV_VAR:SECRET_VAR"]',
      ),
    )

  test('an .erb file is rendered with the accessory env (clear and aliased secrets) in ENV', () => {
    const config = configIn()
    const mysql = accessorySettings(config, 'mysql', dir)
    const [template, plain] = mysql.files
    expect(template.erb).toBe(true)
    expect(accessoryEnvValues(mysql, secretValue)).toEqual({ MYSQL_ROOT_HOST: '%', MYSQL_ROOT_PASSWORD: 'secret123', ENV_VAR: 'secret_env_value' })
    const text = accessoryFileContent(template, { projectDir: dir, env: { FROM_STEP: 'yes' }, accessory: mysql, secretValue }).toString()
    expect(text).toBe('Rendered from a template\nhost=%\npassword=secret123\naliased=secret_env_value\nfrom the step=yes\n')
    expect(accessoryFileContent(plain, { projectDir: dir, env: {}, accessory: mysql, secretValue }).toString()).toBe('select 1; -- <%= not rendered %>\n')
    expect(new AccessoryCommands(config, mysql).fileUploads().map((upload) => upload.remotePath)).toEqual([
      'app-mysql/docker-entrypoint-initdb.d/structure.sql',
      'app-mysql/docker-entrypoint-initdb.d/plain.sql',
    ])
  })

  test("the accessory's own values win over the runner's ENV; a secret it does not list stays out of ENV", () => {
    fs.writeFileSync(path.join(dir, 'db/structure.sql.erb'), 'host=<%= ENV["MYSQL_ROOT_HOST"] %> other=<%= ENV.fetch("OTHER_SECRET", "unset") %>\n')
    const mysql = accessorySettings(configIn(), 'mysql', dir)
    const asked: string[] = []
    const recording = (key: string) => {
      asked.push(key)
      return secretValue(key)
    }
    const text = accessoryFileContent(mysql.files[0], { projectDir: dir, env: { MYSQL_ROOT_HOST: 'runner' }, accessory: mysql, secretValue: recording }).toString()
    expect(text).toBe('host=% other=unset\n')
    expect(asked).toEqual(['MYSQL_ROOT_PASSWORD', 'SECRET_VAR'])
  })

  test('a missing secret in the template\'s env stops the render with the secrets error', () => {
    const mysql = accessorySettings(configIn(), 'mysql', dir)
    expect(() => accessoryFileContent(mysql.files[0], { projectDir: dir, env: {}, accessory: mysql, secretValue: (key) => secretValue(key === 'SECRET_VAR' ? 'NOPE' : key) })).toThrow('no secret NOPE')
  })

  test('every file is written 0600 and then given its configured mode (Kamal: chmod 755 unless mode is set); a template that reads a secret stays 0600', () => {
    const uploads = new AccessoryCommands(configIn(), accessorySettings(configIn(), 'mysql', dir)).fileUploads()
    expect(uploads.map((upload) => [upload.uploadMode.toString(8), upload.holdsSecret, upload.after])).toEqual([
      ['600', true, ['chmod 600 app-mysql/docker-entrypoint-initdb.d/structure.sql']],
      ['600', false, ['chmod 755 app-mysql/docker-entrypoint-initdb.d/plain.sql']],
    ])
    fs.writeFileSync(path.join(dir, 'db/structure.sql.erb'), 'host=<%= ENV["MYSQL_ROOT_HOST"] %>\n')
    const clearOnly = new AccessoryCommands(configIn(), accessorySettings(configIn(), 'mysql', dir)).fileUploads()[0]
    expect([clearOnly.holdsSecret, clearOnly.after]).toEqual([false, ['chmod 755 app-mysql/docker-entrypoint-initdb.d/structure.sql']])
  })

  test('the rendered secret reaches the file, and the plan shows only the file name', () => {
    const config = configIn()
    const mysql = accessorySettings(config, 'mysql', dir)
    const content = accessoryFileContent(mysql.files[0], { projectDir: dir, env: {}, accessory: mysql, secretValue }).toString()
    expect(content).toContain('password=secret123')
    const steps = accessoryBootStages({ config, auditor: new Auditor(config, 'ci') }, [mysql]).flatMap((stage) => stage.lanes.flatMap((lane) => lane.units.flatMap((unit) => unit.steps)))
    const shown = steps.flatMap((step) => describeStep(step)).join('\n')
    expect(shown).toContain('upload app-mysql/docker-entrypoint-initdb.d/structure.sql (mode 0600; file of mysql)')
    expect(shown).toContain('chmod 600 app-mysql/docker-entrypoint-initdb.d/structure.sql')
    expect(shown).not.toContain('secret123')
  })

  test('unsupported Ruby in a template is an error at the tag', () => {
    fs.writeFileSync(path.join(dir, 'db/structure.sql.erb'), 'ok\n<%= 1 + 1 %>\n')
    const mysql = accessorySettings(configIn(), 'mysql', dir)
    let error: unknown
    try {
      accessoryFileContent(mysql.files[0], { projectDir: dir, env: {}, accessory: mysql, secretValue })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).location).toMatchObject({ file: 'db/structure.sql.erb', line: 2, column: 1 })
  })

  test('a missing local file: Kamal\'s "Missing file: <local>"', () => {
    fs.rmSync(path.join(dir, 'db/plain.sql'))
    const mysql = accessorySettings(configIn(), 'mysql', dir)
    expect(() => accessoryFileContent(mysql.files[1], { projectDir: dir, env: {}, accessory: mysql, secretValue })).toThrow(/^Missing file: db\/plain\.sql\./)
  })
})
