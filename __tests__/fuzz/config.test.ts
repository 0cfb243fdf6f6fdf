import fc from 'fast-check'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import YAML from 'yaml'
import { loadRawConfig, type RawConfig } from '../../src/config/load'
import { KamalConfig } from '../../src/config/model'
import { checkCrossFieldRules, ensureAccessoryPlacement, ensureDestinationIfRequired } from '../../src/config/rules'
import { checkRequiredKeys, validateConfig, type ConfigIssue } from '../../src/config/validate'
import { ConfigError } from '../../src/errors'
import { pathWithoutRuby } from '../config/ruby'
import { expectLocatedIn, lineCount, OutcomeTally } from './outcome'

// Random and mutated deploy configs (YAML + ERB, with a destination layer)
// through every config reader, in the order the action runs them. Ruby is off
// the PATH: random text must never reach an interpreter.

let projectDir: string

beforeAll(() => {
  projectDir = mkdtempSync(join(tmpdir(), 'fuzz-config-'))
  mkdirSync(join(projectDir, 'config'))
})

afterAll(() => rmSync(projectDir, { recursive: true, force: true }))

function located(source: RawConfig, issue: ConfigIssue | null): void {
  if (issue) throw new ConfigError(issue.message, source.locate(issue.focus ?? issue.path, { key: issue.focusKey }))
}

/** What src/prepare.ts does with a config before secrets: load, validate, model, Kamal's ensure_* rules. */
function readConfig(destination: string | undefined): void {
  const source = loadRawConfig({ projectDir, configFile: 'config/deploy.yml', destination, env: { PATH: pathWithoutRuby(), HOST: '1.1.1.9' } })
  located(source, validateConfig(source.raw))
  const config = new KamalConfig(source, { destination, version: 'abc123', projectDir })
  ensureAccessoryPlacement(config)
  ensureDestinationIfRequired(config)
  located(source, checkRequiredKeys(source.raw))
  checkCrossFieldRules(config, projectDir)
  void [config.allHosts, config.proxyHosts, config.absoluteImage, config.secretReferences()]
}

const VALID = {
  service: 'app',
  image: 'org/app',
  servers: { web: ['1.1.1.1', '1.1.1.2'], workers: { hosts: ['1.1.1.3'], cmd: 'bin/jobs' } },
  registry: { username: 'user', password: ['KAMAL_REGISTRY_PASSWORD'] },
  builder: { arch: 'amd64' },
  proxy: { host: 'app.example.com', ssl: false, run: { http_port: 80 } },
  env: { clear: { A: '1' }, secret: ['B'] },
  accessories: { db: { image: 'mysql:8', host: '1.1.1.3', port: 3306, proxy: { host: 'db.example.com', run: { debug: true } } } },
}

const KEYS = [
  'service', 'image', 'servers', 'web', 'workers', 'hosts', 'host', 'registry', 'username', 'password', 'server', 'builder',
  'arch', 'remote', 'cache', 'type', 'proxy', 'ssl', 'app_port', 'run', 'http_port', 'debug', 'accessories', 'db', 'port',
  'env', 'clear', 'secret', 'tags', 'roles', 'role', 'volumes', 'labels', 'options', 'healthcheck', 'path', 'boot', 'limit',
  'ssh', 'user', 'retain_containers', 'primary_role', 'allow_empty_roles', 'require_destination', 'minimum_version',
  'hooks_output', 'aliases', 'x-common', 'asset_path', 'files', 'directories', 'cmd', 'logging', 'driver', 'certificate_pem',
]

const scalar = fc.oneof(
  fc.constantFrom('1.1.1.1', '1.1.1.2', 'app', 'amd64', 'arm64', 'true', 'no', '', 'a:b:c', 'ssh://h', 'quiet', '2.99.0', '0644'),
  fc.integer({ min: -5, max: 70000 }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 8 }),
)

const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('tree'), { maxKeys: 4 }),
  ),
}))

/** A Kamal-shaped config with some subtrees replaced by random ones (kept mostly valid so later readers run too). */
const structuredConfig = fc
  .oneof(
    { arbitrary: fc.constant([]), weight: 1 },
    { arbitrary: fc.array(fc.tuple(fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 }), tree), { minLength: 1, maxLength: 2 }), weight: 2 },
  )
  .map((replacements): Record<string, unknown> => {
    const config = structuredClone(VALID) as Record<string, unknown>
    for (const [path, value] of replacements) {
      let node: Record<string, unknown> = config
      for (const key of path.slice(0, -1)) {
        if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) node[key] = {}
        node = node[key] as Record<string, unknown>
      }
      node[path[path.length - 1]] = value
    }
    return config
  })

const TOKENS = [
  ':', '- ', ' ', '\n', '\n  ', '&a ', '*a', '<<: *a\n', '<<: [*a, 5]\n', '"', "'", '[', ']', '{', '}', '#', '!!str ', '!!binary ',
  '? ', '|', '>-', '\t', ',', '@', 'é', '\r\n', 'x-', '\\', '~', '0x1F', '.inf', '2001-12-14',
  '<%= ENV["HOST"] %>', '<%= ENV.fetch("NOPE") %>', '<%= ENV.fetch("HOST", "d").strip %>', '<%= "a\\nb" %>',
  '<% if true %>', '<% end %>', '<%', '%>', '<%%', '-%>', '<%#', '<%-', '<%= `printf 1.1.1.4` %>', '<%= Kamal::Utils.docker_arch == "x" %>',
]

const edit = fc.record({ at: fc.nat(), op: fc.constantFrom('insert', 'delete', 'replace'), token: fc.constantFrom(...TOKENS), length: fc.integer({ min: 1, max: 6 }) })
// Unedited and lightly edited files keep later readers (model, cross-field rules) in reach.
const mutations = fc.oneof({ arbitrary: fc.constant([]), weight: 1 }, { arbitrary: fc.array(edit, { minLength: 1, maxLength: 4 }), weight: 1 })

function mutate(text: string, edits: ReadonlyArray<{ at: number; op: string; token: string; length: number }>): string {
  let out = text
  for (const edit of edits) {
    const at = out.length === 0 ? 0 : edit.at % (out.length + 1)
    if (edit.op === 'insert') out = out.slice(0, at) + edit.token + out.slice(at)
    else if (edit.op === 'delete') out = out.slice(0, at) + out.slice(at + edit.length)
    else out = out.slice(0, at) + edit.token + out.slice(at + edit.length)
  }
  return out
}

const RUNS = 200

const stringify = (value: unknown) => YAML.stringify(value, { version: '1.1' })

const configCase = fc.record({
  base: structuredConfig.map(stringify),
  baseEdits: mutations,
  destination: fc.option(fc.record({ overlay: fc.dictionary(fc.constantFrom(...KEYS), tree, { maxKeys: 3 }).map(stringify), edits: mutations }), { nil: undefined }),
})

test('every mutated config ends in a value or a located ConfigError, never a crash or a hang', () => {
  const tally = new OutcomeTally('config fuzz (YAML + ERB + destination)')
  fc.assert(
    fc.property(configCase, ({ base, baseEdits, destination }) => {
      const baseText = mutate(base, baseEdits)
      writeFileSync(join(projectDir, 'config/deploy.yml'), baseText)
      const lines: Record<string, number> = { 'config/deploy.yml': lineCount(baseText) }
      if (destination) {
        const overlayText = mutate(destination.overlay, destination.edits)
        writeFileSync(join(projectDir, 'config/deploy.staging.yml'), overlayText)
        lines['config/deploy.staging.yml'] = lineCount(overlayText)
      }
      tally.run(
        () => readConfig(destination ? 'staging' : undefined),
        (error) => expectLocatedIn(error, lines),
      )
    }),
    { numRuns: RUNS },
  )
  tally.report()
  expect(tally.total).toBe(RUNS)
  // the generator must reach both outcomes, or it is testing nothing
  expect(tally.counts.value).toBeGreaterThanOrEqual(3)
  expect(tally.counts['located-error']).toBeGreaterThan(10)
})
