/**
 * Example configuration trees, one per config section.
 *
 * Kamal derives its structural validation from the example values in its
 * documentation: every key that appears in an example is allowed, and the
 * JavaScript type of the example value decides what the user's value must be
 * (a string, an integer, a boolean, a list, a nested mapping, ...). The
 * placeholder `...` stands for a section that is validated on its own and
 * only needs to be a mapping here.
 *
 * Where the documentation shows a key twice, the later form is the one that
 * counts (that is how a YAML loader resolves duplicates), e.g. builder
 * `sbom` is a boolean and proxy `ssl` a mapping.
 *
 * The values double as samples for the fix-it hints, so they are realistic.
 */

export type ExampleValue = string | number | boolean | ExampleValue[] | ExampleHash
export interface ExampleHash {
  [key: string]: ExampleValue
}

/** Marks a nested section that has its own validator. */
export const PLACEHOLDER = '...'

export const ROOT_EXAMPLE: ExampleHash = {
  service: 'my-app',
  image: 'my-user/my-app',
  labels: { 'my-label': 'my-value' },
  volumes: ['/path/on/host:/path/in/container:ro'],
  registry: PLACEHOLDER,
  servers: PLACEHOLDER,
  env: PLACEHOLDER,
  asset_path: '/rails/public/assets',
  hooks_path: '.kamal/hooks',
  hooks_output: { 'pre-deploy': 'verbose', 'pre-build': 'quiet' },
  secrets_path: '.kamal/secrets',
  error_pages_path: 'public',
  require_destination: true,
  primary_role: 'web',
  allow_empty_roles: false,
  retain_containers: 5,
  minimum_version: '2.0.0',
  readiness_delay: 7,
  deploy_timeout: 30,
  drain_timeout: 30,
  stop_timeout: 30,
  run_directory: '.kamal',
  ssh: PLACEHOLDER,
  builder: PLACEHOLDER,
  accessories: PLACEHOLDER,
  proxy: PLACEHOLDER,
  sshkit: PLACEHOLDER,
  boot: PLACEHOLDER,
  logging: PLACEHOLDER,
  output: PLACEHOLDER,
  aliases: PLACEHOLDER,
}

/** One role under `servers:` when written as a mapping. */
export const ROLE_EXAMPLE: ExampleHash = {
  hosts: ['192.168.0.1'],
  cmd: 'bin/jobs',
  stop_timeout: 30,
  options: { memory: '2g', cpus: 4 },
  logging: PLACEHOLDER,
  proxy: PLACEHOLDER,
  labels: { 'my-label': 'workers' },
  env: PLACEHOLDER,
  asset_path: '/public',
}

export const ACCESSORY_EXAMPLE: ExampleHash = {
  service: 'mysql',
  image: 'mysql:8.0',
  registry: PLACEHOLDER,
  host: 'db1.example.com',
  hosts: ['db1.example.com', 'db2.example.com'],
  role: 'web',
  roles: ['web'],
  tag: 'writer',
  tags: ['writer', 'reader'],
  cmd: 'bin/mysqld',
  port: '127.0.0.1:3306:3306',
  labels: { app: 'my-app' },
  options: { restart: 'always', cpus: 2 },
  env: PLACEHOLDER,
  files: ['config/my.cnf:/etc/mysql/my.cnf'],
  directories: ['mysql-data:/var/lib/mysql'],
  volumes: ['/path/to/mysql-logs:/var/log/mysql'],
  network: 'custom',
  proxy: PLACEHOLDER,
}

/** An alias is a single command line. */
export const ALIAS_EXAMPLE: ExampleValue = 'app logs -r web'

export const BOOT_EXAMPLE: ExampleHash = {
  limit: '25%',
  wait: 10,
  parallel_roles: true,
}

export const BUILDER_EXAMPLE: ExampleHash = {
  arch: ['amd64'],
  remote: 'ssh://docker@docker-builder',
  local: true,
  pack: {
    builder: 'heroku/builder:24',
    buildpacks: ['heroku/ruby'],
  },
  cache: {
    type: 'registry',
    options: 'mode=max',
    image: 'my-app-build-cache',
  },
  context: '.',
  dockerfile: 'Dockerfile.production',
  target: 'production',
  args: { ENVIRONMENT: 'production' },
  secrets: ['SECRET1'],
  ssh: 'default=$SSH_AUTH_SOCK',
  driver: 'docker',
  provenance: 'mode=max',
  sbom: true,
}

export const LOGGING_EXAMPLE: ExampleHash = {
  driver: 'json-file',
  options: { 'max-size': '100m' },
}

export const OUTPUT_EXAMPLE: ExampleHash = {
  otel: { endpoint: 'http://otel-gateway:4318' },
  file: { path: '/var/log/kamal/' },
}

export const PROXY_EXAMPLE: ExampleHash = {
  host: 'app.example.com',
  hosts: ['app.example.com', 'www.example.com'],
  app_port: 3000,
  ssl: { certificate_pem: 'CERTIFICATE_PEM', private_key_pem: 'PRIVATE_KEY_PEM' },
  ssl_redirect: false,
  forward_headers: true,
  response_timeout: 30,
  path_prefix: '/api',
  path_prefixes: ['/api'],
  strip_path_prefix: false,
  healthcheck: {
    interval: 3,
    path: '/up',
    timeout: 3,
  },
  buffering: {
    requests: true,
    responses: true,
    max_request_body: 40_000_000,
    max_response_body: 0,
    memory: 2_000_000,
  },
  logging: {
    request_headers: ['Cache-Control'],
    response_headers: ['X-Request-ID'],
  },
  run: {
    http_port: 8080,
    https_port: 8443,
    metrics_port: 9090,
    debug: true,
    log_max_size: '30m',
    publish: false,
    bind_ips: ['0.0.0.0'],
    registry: 'registry.example.com',
    repository: 'basecamp/kamal-proxy',
    version: 'v0.9.2',
    options: { memory: '512m' },
  },
}

/**
 * Registry keys checked against the example. `username` and `password` are
 * absent on purpose: they have their own rule (string, or a one-item list
 * naming a secret; required unless the registry is local).
 */
export const REGISTRY_EXAMPLE: ExampleHash = {
  server: 'ghcr.io',
}

export const SSH_EXAMPLE: ExampleHash = {
  user: 'app',
  port: '22',
  proxy: 'root@proxy-host',
  proxy_command: 'ssh -W %h:%p user@proxy',
  log_level: 'debug',
  keys_only: false,
  keys: ['~/.ssh/id.pem'],
  key_data: ['SSH_PRIVATE_KEY'],
  config: ['~/.ssh/myconfig'],
  forward_agent: false,
}

export const SSHKIT_EXAMPLE: ExampleHash = {
  max_concurrent_starts: 30,
  pool_idle_timeout: 900,
  dns_retries: 3,
}
