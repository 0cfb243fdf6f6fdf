import YAML from 'yaml'
import { checkRequiredKeys, validateConfigAll } from '../../src/config/validate'

// Kamal's own test fixtures (test/fixtures/deploy*.yml), ERB replaced by plain values.
const fixtures: Record<string, string> = {
  deploy: `
service: app
image: dhh/app
servers:
  - "1.1.1.1"
  - "1.1.1.2"
registry:
  username: user
  password: pw
builder:
  arch: amd64
aliases:
  other_config: config -c config/deploy2.yml
  other_destination_config: config -d elsewhere
`,
  deploy_with_env_tags: `
service: app
image: dhh/app
servers:
  web:
    - 1.1.1.1: site1
    - 1.1.1.2: [ site1 experimental ]
    - 1.2.1.1: site2
  workers:
    - 1.1.1.3: site1
    - 1.2.1.4: [ site2 experimental ]
builder:
  arch: amd64
env:
  clear:
    TEST: "root"
    EXPERIMENT: "disabled"
  tags:
    site1:
      SITE: site1
    experimental:
      EXPERIMENT: "enabled"
registry:
  username: user
  password: pw
`,
  deploy_with_proxy_run_config: `
service: app
image: dhh/app
servers:
  web: ["1.1.1.1", "1.1.1.2"]
  workers: ["1.1.1.3", "1.1.1.4"]
registry:
  username: user
  password: pw
builder:
  arch: amd64
proxy:
  run:
    registry: registry:4443
    debug: true
    metrics_port: 9090
    options:
      cpus: 1.5
accessories:
  mysql:
    image: mysql:5.7
    host: 1.1.1.3
    port: 3306
    env:
      clear:
        MYSQL_ROOT_HOST: '%'
      secret:
        - MYSQL_ROOT_PASSWORD
    files:
      - test/fixtures/files/my.cnf:/etc/mysql/my.cnf
    directories:
      - data:/var/lib/mysql
    proxy:
      run:
        debug: false
        metrics_port: 9190
  redis:
    image: redis:latest
    roles:
      - web
    port: 6379
    directories:
      - data:/data
readiness_delay: 0
deploy_timeout: 6
`,
  deploy_with_extensions: `
x-web: &web
  proxy: {}

service: app
image: dhh/app
servers:
  web_chicago:
    <<: *web
    hosts:
      - 1.1.1.1
      - 1.1.1.2
  web_tokyo:
    <<: *web
    hosts:
      - 1.1.1.3
      - 1.1.1.4
env:
  REDIS_URL: redis://x/y
registry:
  server: registry.digitalocean.com
  username: user
  password: pw
builder:
  arch: amd64
primary_role: web_tokyo
`,
  deploy_with_multiple_proxy_roles: `
service: app
image: dhh/app
servers:
  web:
    hosts: [1.1.1.1, 1.1.1.2]
    env:
      ROLE: "web"
    proxy: true
  web_tokyo:
    hosts: [1.1.1.3, 1.1.1.4]
    env:
      ROLE: "web"
    proxy: true
  workers:
    cmd: bin/jobs
    hosts: [1.1.1.1, 1.1.1.2]
builder:
  arch: amd64
env:
  REDIS_URL: redis://x/y
registry:
  server: registry.digitalocean.com
  username: user
  password: pw
`,
  deploy_with_local_registry_and_accessories: `
service: app
image: dhh/app
servers:
  web: ["1.1.1.1", "1.1.1.2"]
  workers: ["1.1.1.3", "1.1.1.4"]
registry:
  server: localhost:5000
builder:
  arch: amd64
accessories:
  redis:
    image: redis:latest
    roles:
      - web
    port: 6379
    directories:
      - data:/data
  busybox:
    service: custom-box
    image: busybox:latest
    host: 1.1.1.3
    registry:
      server: other.registry
      username: other_user
      password: other_pw
readiness_delay: 0
`,
  deploy_with_remote_builder: `
service: app
image: dhh/app
servers:
  - "1.1.1.1"
registry:
  username: user
  password: pw
builder:
  arch: arm64
  remote: ssh://app@1.1.1.5
`,
  deploy_with_cloud_builder: `
service: app
image: dhh/app
servers: ["1.1.1.1"]
registry:
  username: user
  password: pw
builder:
  arch: amd64
  driver: cloud example_org/cloud_builder
`,
  deploy_with_boot_strategy: `
service: app
image: dhh/app
servers:
  web: ["1.1.1.1", "1.1.1.2"]
  workers: ["1.1.1.3", "1.1.1.4"]
builder:
  arch: amd64
registry:
  username: user
  password: pw
boot:
  limit: 3
  wait: 2
`,
  deploy_with_proxy_roles: `
service: app
image: dhh/app
servers:
  web:
    hosts: ["1.1.1.1", "1.1.1.2"]
  web2:
    hosts: ["1.1.1.3", "1.1.1.4"]
    proxy:
      response_timeout: 15
registry:
  username: user
  password: pw
builder:
  arch: amd64
proxy:
  response_timeout: 10
readiness_delay: 0
deploy_timeout: 6
`,
  deploy_with_secrets: `
service: app
image: dhh/app
servers: ["1.1.1.1", "1.1.1.2"]
registry:
  username: user
  password: pw
env:
  secret:
    - PASSWORD
builder:
  arch: amd64
`,
}

describe('Kamal fixtures validate cleanly', () => {
  test.each(Object.entries(fixtures))('%s', (_name, text) => {
    const raw = YAML.parse(text, { version: '1.1', merge: true })
    expect(validateConfigAll(raw)).toEqual([])
    expect(checkRequiredKeys(raw)).toBeNull()
  })
})
