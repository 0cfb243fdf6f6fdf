import YAML from 'yaml'
import { validateConfig, validateConfigAll, type ConfigIssue } from '../../src/config/validate'

const BASE = `
service: app
image: app
builder:
  arch: amd64
registry:
  username: user
  password: secret
servers:
  - 1.1.1.1
`

function parse(text: string): Record<string, unknown> {
  return YAML.parse(text, { version: '1.1', merge: true }) as Record<string, unknown>
}

/** The base config with top-level keys replaced, as Kamal's own validation tests do. */
function configWith(overlay: string): Record<string, unknown> {
  return { ...parse(BASE), ...(parse(overlay) ?? {}) }
}

function format(issue: ConfigIssue | null): string | null {
  if (!issue) return null
  return issue.path.length > 0 ? `${issue.path.join('/')}: ${issue.message}` : issue.message
}

// [rule, overlay YAML, Kamal's error message]
const rules: Array<[string, string, string]> = [
  // root
  ['unknown root key', 'unknown: value', 'unknown key: unknown'],
  ['unknown root keys', 'unknown: value\nunknown2: value', 'unknown keys: unknown, unknown2'],
  ['x- keys are allowed only at the root', 'builder:\n  arch: amd64\n  x-cache: 1', 'builder: unknown key: x-cache'],
  ['root string', 'service: []', 'service: should be a string'],
  ['root boolean', 'require_destination: foo', 'require_destination: should be a boolean'],
  ['root integer', 'retain_containers: foo', 'retain_containers: should be an integer'],
  ['root float is not an integer', 'deploy_timeout: 1.5', 'deploy_timeout: should be an integer'],
  ['root array', 'volumes: foo', 'volumes: should be an array'],
  ['root array items', 'volumes: [[a]]', 'volumes/0: should be a string'],
  ['root servers type', 'servers: foo', 'servers: should be an array or a hash'],
  ['empty servers', 'servers:', 'servers: should be an array or a hash'],
  ['root section type', 'builder: []', 'builder: should be a hash'],
  ['root labels type', 'labels: []', 'labels: should be a hash'],
  ['root labels values', 'labels:\n  team: [a]', 'labels/team: should be a string'],
  ['hooks_output type', 'hooks_output: []', 'hooks_output: should be a string or a symbol'],
  ['hooks_output per hook', 'hooks_output:\n  pre-deploy: [a]', 'hooks_output/pre-deploy: should be a string or a symbol'],
  ['root proxy boolean reaches the proxy section', 'proxy: true', 'proxy: should be a hash'],
  // servers list
  ['host entry type', 'servers: [[]]', 'servers/0: should be a string or a hash'],
  ['host entry with two hosts', 'servers:\n  - a: b\n    c: d', 'servers/0: multiple hosts found'],
  ['host tags type', 'servers:\n  - foo: {}', 'servers/0/foo: should be a string or an array'],
  ['host tag items', 'servers:\n  - foo: [[]]', 'servers/0/foo/0: should be a string'],
  // roles
  ['role type', 'servers:\n  web: foo', 'servers/web: should be an array or a hash'],
  ['role hosts type', 'servers:\n  web:\n    hosts: ""', 'servers/web/hosts: should be an array'],
  ['role unknown key', 'servers:\n  web:\n    hosts: [1.1.1.1]\n    foo: 1', 'servers/web: unknown key: foo'],
  ['role integer', 'servers:\n  web:\n    hosts: [1.1.1.1]\n    stop_timeout: soon', 'servers/web/stop_timeout: should be an integer'],
  ['role options type', 'servers:\n  web:\n    options: ""', 'servers/web/options: should be a hash'],
  ['role logging options', 'servers:\n  web:\n    logging:\n      options: ""', 'servers/web/logging/options: should be a hash'],
  ['role logging unknown key', 'servers:\n  web:\n    logging:\n      level: debug', 'servers/web/logging: unknown key: level'],
  ['role reserved label', 'servers:\n  web:\n    labels:\n      service: foo', 'servers/web/labels/service: invalid label. destination, role, and service are reserved labels'],
  ['role env type', 'servers:\n  web:\n    env: []', 'servers/web/env: should be a hash'],
  ['role env tags', 'servers:\n  web:\n    hosts: [1.1.1.1]\n    env:\n      tags: {}', 'servers/web/env: tags are only allowed in the root env'],
  ['role restart policy type', 'servers:\n  web:\n    options:\n      restart: no', 'servers/web/options/restart: should be a string. Use "no" to disable restarts'],
  ['role restart policy value', 'servers:\n  web:\n    options:\n      restart: sometimes', 'servers/web/options/restart: should be no, always, unless-stopped, on-failure, or on-failure:N'],
  ['role proxy type', 'servers:\n  web:\n    proxy: please', 'servers/web/proxy: should be a hash'],
  ['role proxy needs host for ssl', 'servers:\n  web: [1.1.1.1]\n  workers:\n    hosts: [1.1.1.2]\n    proxy:\n      ssl: true', 'servers/workers/proxy: Must set a host to enable automatic SSL'],
  ['roles are checked in sorted order', 'servers:\n  web:\n    foo: 1\n  api:\n    bar: 1', 'servers/api: unknown key: bar'],
  // registry
  ['registry username required', 'registry: {}', 'registry/username: is required'],
  ['registry missing entirely', 'registry:', 'registry: should be a hash'],
  ['registry password required', 'registry:\n  username: foo', 'registry/password: is required'],
  ['registry password form', 'registry:\n  username: foo\n  password: [SECRET1, SECRET2]', 'registry/password: should be a string or an array with one string (for secret lookup)'],
  ['registry username must be text', 'registry:\n  username: 123\n  password: x', 'registry/username: should be a string or an array with one string (for secret lookup)'],
  ['registry server type', 'registry:\n  username: foo\n  password: bar\n  server: []', 'registry/server: should be a string'],
  ['registry unknown key', 'registry:\n  username: foo\n  password: bar\n  email: a@b.c', 'registry: unknown key: email'],
  ['bare localhost is not a local registry', 'registry:\n  server: localhost', 'registry/username: is required'],
  // accessories
  ['accessory type', 'accessories:\n  db: []', 'accessories/db: should be a hash'],
  ['accessory unknown key', 'accessories:\n  db:\n    unknown: baz', 'accessories/db: unknown key: unknown'],
  ['accessory placement missing', 'accessories:\n  db:\n    image: mysql', 'accessories/db: specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`'],
  ['accessory placement twice', 'accessories:\n  db:\n    host: a\n    roles: [web]', 'accessories/db: specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`'],
  ['accessory host type', 'accessories:\n  db:\n    host: []', 'accessories/db/host: should be a string'],
  ['accessory hosts entries', 'accessories:\n  db:\n    hosts:\n      - a: b\n        c: d', 'accessories/db/hosts/0: multiple hosts found'],
  ['accessory options type', 'accessories:\n  db:\n    options: []', 'accessories/db/options: should be a hash'],
  ['accessory reserved label', 'accessories:\n  db:\n    host: a\n    labels:\n      destination: foo', 'accessories/db/labels/destination: invalid label. destination, role, and service are reserved labels'],
  ['accessory restart policy', 'accessories:\n  db:\n    host: a\n    options:\n      restart: false', 'accessories/db/options/restart: should be a string. Use "no" to disable restarts'],
  ['accessory files type', 'accessories:\n  db:\n    host: a\n    files: my.cnf', 'accessories/db/files: should be an array'],
  ['accessory file entry type', 'accessories:\n  db:\n    host: a\n    files: [[a]]', 'accessories/db/files/0: should be a string or a hash'],
  ['accessory file mapping values', 'accessories:\n  db:\n    host: a\n    directories:\n      - local: data\n        mode: [a]', 'accessories/db/directories/0/mode: should be a string'],
  ['accessory unknown roles', 'accessories:\n  db:\n    roles: [web, db, jobs]', 'accessories/db: unknown roles db, jobs'],
  ['accessory unknown role', 'accessories:\n  db:\n    role: db', 'accessories/db: unknown role db'],
  ['accessory env type', 'accessories:\n  db:\n    env: []', 'accessories/db/env: should be a hash'],
  ['accessory env tags', 'accessories:\n  db:\n    host: a\n    env:\n      tags: {}', 'accessories/db/env: tags are only allowed in the root env'],
  ['accessory proxy true', 'accessories:\n  db:\n    host: a\n    proxy: true', 'accessories/db/proxy: should be a hash'],
  ['accessory proxy rules', 'accessories:\n  db:\n    host: a\n    proxy:\n      ssl: true', 'accessories/db/proxy: Must set a host to enable automatic SSL'],
  ['accessory registry credentials', 'accessories:\n  db:\n    host: a\n    registry:\n      server: ghcr.io', 'accessories/db/registry/username: is required'],
  // env
  ['env type', 'env: []', 'env: should be a hash'],
  ['env value', 'env:\n  FOO: []', 'env/FOO: should be a string'],
  ['env empty value', 'env:\n  FOO:', 'env/FOO: should be a string'],
  ['env clear value', 'env:\n  clear:\n    FOO: []', 'env/clear/FOO: should be a string'],
  ['env secret type', 'env:\n  secret:\n    FOO: []', 'env/secret: should be an array'],
  ['env secret items', 'env:\n  secret: [[]]', 'env/secret/0: should be a string'],
  ['env mixed forms', 'env:\n  clear:\n    A: b\n  FOO: bar\n  BAZ: qux', 'env: unknown keys: FOO, BAZ'],
  ['env tags type', 'env:\n  tags: []', 'env/tags: should be a hash'],
  ['env tag type', 'env:\n  tags:\n    tag1: foo', 'env/tags/tag1: should be a hash'],
  ['env tag values', 'env:\n  tags:\n    tag1:\n      clear:\n        FOO: []', 'env/tags/tag1/clear/FOO: should be a string'],
  ['env nested tags', 'env:\n  tags:\n    tag1:\n      tags: {}', 'env/tags/tag1: tags are only allowed in the root env'],
  // ssh / sshkit
  ['ssh unknown key', 'ssh:\n  foo: bar', 'ssh: unknown key: foo'],
  ['ssh string', 'ssh:\n  user: []', 'ssh/user: should be a string'],
  ['ssh boolean', 'ssh:\n  keys_only: maybe', 'ssh/keys_only: should be a boolean'],
  ['ssh config', 'ssh:\n  config: 1', 'ssh/config: should be a boolean or a string or an array'],
  ['ssh config list', 'ssh:\n  config: [[a]]', 'ssh/config/0: should be a string'],
  ['sshkit unknown key', 'sshkit:\n  foo: bar', 'sshkit: unknown key: foo'],
  ['sshkit integer', 'sshkit:\n  dns_retries: foo', 'sshkit/dns_retries: should be an integer'],
  // builder
  ['builder unknown key', 'builder:\n  arch: amd64\n  foo: bar', 'builder: unknown key: foo'],
  ['builder string', 'builder:\n  arch: amd64\n  remote:\n    foo: bar', 'builder/remote: should be a string'],
  ['builder arch type', 'builder:\n  arch: {}', 'builder/arch: should be an array or a string'],
  ['builder arch items', 'builder:\n  arch: [amd64, []]', 'builder/arch: should be an array or a string'],
  ['builder args', 'builder:\n  arch: amd64\n  args: [foo]', 'builder/args: should be a hash'],
  ['builder nested string', 'builder:\n  arch: amd64\n  cache:\n    options: []', 'builder/cache/options: should be a string'],
  ['builder nested unknown key', 'builder:\n  arch: amd64\n  pack:\n    stack: x', 'builder/pack: unknown key: stack'],
  ['builder sbom is a boolean', 'builder:\n  arch: amd64\n  sbom: spdx', 'builder/sbom: should be a boolean'],
  ['builder cache type', 'builder:\n  arch: amd64\n  cache:\n    type: s3', 'builder: Invalid cache type: s3'],
  ['builder arch required', 'builder:\n  remote: ssh://builder', 'builder: Builder arch not set'],
  ['builder arch empty list', 'builder:\n  arch: []', 'builder: Builder arch not set'],
  ['buildpacks single arch', 'builder:\n  arch: [amd64, arm64]\n  pack:\n    builder: heroku/builder:24', 'builder: buildpacks only support building for one arch'],
  ['local builds need a remote', 'builder:\n  arch: amd64\n  local: false', 'builder: Cannot disable local builds, no remote is set'],
  // proxy
  ['proxy unknown key', 'proxy:\n  hostname: a.com', 'proxy: unknown key: hostname'],
  ['proxy integer', 'proxy:\n  app_port: http', 'proxy/app_port: should be an integer'],
  ['proxy ssl type', 'proxy:\n  host: a.com\n  ssl: please', 'proxy/ssl: should be a boolean or a hash'],
  ['proxy hosts list', 'proxy:\n  hosts: a.com', 'proxy/hosts: should be an array'],
  ['proxy nested integer', 'proxy:\n  healthcheck:\n    interval: 3s', 'proxy/healthcheck/interval: should be an integer'],
  ['proxy automatic ssl needs host', 'proxy:\n  ssl: true', 'proxy: Must set a host to enable automatic SSL'],
  ['proxy host xor hosts', 'proxy:\n  host: a.com\n  hosts: [b.com]', "proxy: Specify one of 'host' or 'hosts', not both"],
  ['proxy certificate without key', 'proxy:\n  host: a.com\n  ssl:\n    certificate_pem: CERT', 'proxy: Missing private_key_pem setting (required when certificate_pem is present)'],
  ['proxy key without certificate', 'proxy:\n  host: a.com\n  ssl:\n    private_key_pem: KEY', 'proxy: Missing certificate_pem setting (required when private_key_pem is present)'],
  ['proxy run unknown key', 'proxy:\n  run:\n    port: 80', 'proxy/run: unknown key: port'],
  ['proxy run options', 'proxy:\n  run:\n    options: []', 'proxy/run/options: should be a hash'],
  ['proxy run bind ip', 'proxy:\n  run:\n    bind_ips: [127.0.0.1, 999.0.0.1]', 'proxy: Invalid publish IP address: 999.0.0.1'],
  ['proxy run publish false', 'proxy:\n  run:\n    publish: false\n    http_port: 8080', 'proxy: Cannot set http_port, https_port or bind_ips when publish is false'],
  // boot, logging, output
  ['boot unknown key', 'boot:\n  parallel: true', 'boot: unknown key: parallel'],
  ['boot integer', 'boot:\n  wait: 10s', 'boot/wait: should be an integer'],
  ['logging string', 'logging:\n  driver: []', 'logging/driver: should be a string'],
  ['output unknown key', 'output:\n  syslog: {}', 'output: unknown key: syslog'],
  ['output nested', 'output:\n  otel:\n    endpoint: [a]', 'output/otel/endpoint: should be a string'],
  ['output nested type', 'output:\n  file:', 'output/file: should be a hash'],
  // aliases
  ['alias type', 'aliases:\n  foo: [a]', 'aliases/foo: should be a string'],
  ['alias name', 'aliases:\n  Deploy-All: deploy', "aliases/Deploy-All: Invalid alias name: 'Deploy-All'. Must only contain lowercase letters, alphanumeric, hyphens and underscores."],
  ['alias shadows a command', 'aliases:\n  deploy: deploy -d production', "aliases/deploy: Alias 'deploy' conflicts with a built-in command."],
  // Kamal's order across sections
  ['root keys before sections', 'foo: 1\nbuilder:\n  arch: amd64\n  bar: 2', 'unknown key: foo'],
  ['roles before registry', 'registry: {}\nservers:\n  web:\n    foo: 1', 'servers/web: unknown key: foo'],
  ['registry before accessories', 'registry: {}\naccessories:\n  db: []', 'registry/username: is required'],
  ['accessories before builder', 'builder: {}\naccessories:\n  db:\n    image: x', 'accessories/db: specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`'],
  ['builder before env', 'env:\n  tags:\n    a: {tags: {}}\nbuilder: {}', 'builder: Builder arch not set'],
  ['env before proxy and ssh', 'ssh:\n  foo: 1\nproxy:\n  ssl: true\nenv:\n  A: []', 'env/A: should be a string'],
]

describe('validateConfig: one Kamal rule per row', () => {
  test.each(rules)('%s', (_rule, overlay, expected) => {
    expect(format(validateConfig(configWith(overlay)))).toBe(expected)
  })
})

// [case, overlay YAML] that Kamal accepts
const accepted: Array<[string, string]> = [
  ['the base config', ''],
  ['numbers and booleans where strings are expected', 'service: 123\nimage: true\nssh:\n  port: 2222\nboot:\n  limit: 3'],
  ['extension keys at the root', 'x-defaults: &defaults\n  cmd: bin/jobs\nservers:\n  web: [1.1.1.1]\n  jobs:\n    <<: *defaults\n    hosts: [1.1.1.2]'],
  ['a local registry without credentials', 'registry:\n  server: localhost:5000'],
  ['proxy: false on a role and a boolean role proxy', 'servers:\n  web:\n    hosts: [1.1.1.1]\n    proxy: false\n  api:\n    hosts: [1.1.1.2]\n    proxy: true'],
  ['hooks_output as a Ruby symbol or per hook', 'hooks_output: :verbose'],
  ['hooks_output per hook', 'hooks_output:\n  pre-deploy: :quiet'],
  ['ssl mapping with both PEMs and several hosts', 'proxy:\n  hosts: [a.com, b.com]\n  ssl:\n    certificate_pem: CERT\n    private_key_pem: KEY'],
  ['publish false alone', 'proxy:\n  run:\n    publish: false\n    options:\n      cpus: 0.5'],
  ['IPv6 bind IPs', 'proxy:\n  run:\n    bind_ips: ["::1", 0.0.0.0, "fe80::1"]'],
  ['restart policies', 'servers:\n  web:\n    hosts: [1.1.1.1]\n    options:\n      restart: on-failure:5'],
  ['accessory file and directory mappings', 'accessories:\n  db:\n    host: a\n    files:\n      - local: config/secret.key\n        remote: /etc/secret.key\n        mode: "0600"\n        owner: "mysql:mysql"\n      - config/my.cnf:/etc/my.cnf\n    directories:\n      - data:/var/lib/mysql:z'],
  ['an empty output block', 'output: {}'],
  ['ssh config forms', 'ssh:\n  config: false\n  keys_only: true\n  keys: [~/.ssh/id]'],
  ['root labels with Kamal-reserved names (only roles and accessories reject them)', 'labels:\n  service: x'],
]

describe('validateConfig: configs Kamal accepts', () => {
  test.each(accepted)('%s', (_case, overlay) => {
    expect(validateConfigAll(configWith(overlay))).toEqual([])
  })
})
