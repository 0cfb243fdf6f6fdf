/**
 * The rule: a Kamal key is honoured as Kamal does it, or refused at its
 * file:line before anything runs — never validated and ignored.
 *
 * Every key of Kamal's documented examples (src/config/examples.ts) must be
 * in the kitchen-sink config, and changing its value must change what the
 * action does (observe()), unless the key is in the table of refused keys
 * (then a config with it fails at its line with that message) or in the
 * table of keys Kamal itself ignores. A new documented key that is neither
 * fails here.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml'
import { KAMAL_IGNORED_KEYS, REFUSED_KEYS } from '../../../src/config/key-dispositions'
import { documentedKeys, matchesKey } from './documented-keys'
import { observe } from './observe'

const SINK = fs.readFileSync(path.join(__dirname, 'kitchen-sink.yml'), 'utf8')

/** Keys the sink cannot hold together with their alternative; each variant replaces the sink's value with the alternative. */
const VARIANTS: Record<string, (doc: Document) => void> = {
  'proxy.hosts': (doc) => (doc.deleteIn(['proxy', 'host']), doc.setIn(['proxy', 'hosts'], ['sink.example.com', 'www.sink.example.com'])),
  'proxy.path_prefixes': (doc) => (doc.deleteIn(['proxy', 'path_prefix']), doc.setIn(['proxy', 'path_prefixes'], ['/app', '/api'])),
  'proxy.ssl': (doc) => doc.setIn(['proxy', 'ssl'], true),
  'proxy.ssl.certificate_pem': (doc) => doc.setIn(['proxy', 'ssl'], doc.createNode({ certificate_pem: 'CERTIFICATE_PEM', private_key_pem: 'PRIVATE_KEY_PEM' })),
  'proxy.ssl.private_key_pem': (doc) => doc.setIn(['proxy', 'ssl'], doc.createNode({ certificate_pem: 'CERTIFICATE_PEM', private_key_pem: 'PRIVATE_KEY_PEM' })),
  'proxy.run.publish': (doc) => (doc.deleteIn(['proxy', 'run', 'bind_ips']), doc.deleteIn(['proxy', 'run', 'http_port']), doc.deleteIn(['proxy', 'run', 'https_port']), doc.setIn(['proxy', 'run', 'publish'], true)),
  'accessories.*.hosts': (doc) => (doc.deleteIn(['accessories', 'db', 'host']), doc.setIn(['accessories', 'db', 'hosts'], ['10.0.0.3'])),
  'accessories.*.role': (doc) => (doc.deleteIn(['accessories', 'db', 'host']), doc.setIn(['accessories', 'db', 'role'], 'workers')),
  'accessories.*.roles': (doc) => (doc.deleteIn(['accessories', 'db', 'host']), doc.setIn(['accessories', 'db', 'roles'], ['workers'])),
  'accessories.*.tag': (doc) => (doc.deleteIn(['accessories', 'db', 'host']), doc.setIn(['accessories', 'db', 'tag'], 'canary')),
  'accessories.*.tags': (doc) => (doc.deleteIn(['accessories', 'db', 'host']), doc.setIn(['accessories', 'db', 'tags'], ['canary'])),
  'accessories.*.proxy': (doc) => doc.setIn(['accessories', 'db', 'proxy'], doc.createNode({ host: 'db.sink.example.com', app_port: 3306 })),
  'builder.pack': (doc) => doc.setIn(['builder', 'pack'], doc.createNode({ builder: 'heroku/builder:24', buildpacks: ['heroku/ruby'] })),
  'builder.pack.builder': (doc) => doc.setIn(['builder', 'pack'], doc.createNode({ builder: 'heroku/builder:24', buildpacks: ['heroku/ruby'] })),
  'builder.pack.buildpacks': (doc) => doc.setIn(['builder', 'pack'], doc.createNode({ builder: 'heroku/builder:24', buildpacks: ['heroku/ruby'] })),
  'builder.driver': (doc) => (doc.deleteIn(['builder', 'remote']), doc.deleteIn(['builder', 'cache']), doc.setIn(['builder', 'arch'], ['amd64']), doc.setIn(['builder', 'driver'], 'docker')),
  'servers.*.asset_path': (doc) => doc.setIn(['servers', 'web', 'asset_path'], '/public/web'),
  'ssh.proxy_command': (doc) => (doc.deleteIn(['ssh', 'proxy']), doc.setIn(['ssh', 'proxy_command'], 'ssh -W %h:%p bastion.example.com')),
  'output.otel': (doc) => doc.setIn(['output', 'otel'], doc.createNode({ endpoint: 'http://otel:4318' })),
  'output.otel.endpoint': (doc) => doc.setIn(['output', 'otel'], doc.createNode({ endpoint: 'http://otel:4318' })),
  allow_empty_roles: (doc) => (doc.setIn(['servers', 'jobs'], doc.createNode({ hosts: [] })), doc.setIn(['allow_empty_roles'], true)),
}
for (const key of ['builder.pack', 'builder.pack.builder', 'builder.pack.buildpacks']) {
  const pack = VARIANTS[key]
  VARIANTS[key] = (doc) => {
    for (const ignored of ['cache', 'ssh', 'target', 'provenance', 'sbom', 'remote', 'local', 'secrets', 'dockerfile', 'context']) doc.deleteIn(['builder', ignored])
    doc.setIn(['builder', 'arch'], ['amd64'])
    pack(doc)
  }
}

/** Valid other values for keys whose generic mutations would be invalid. */
const ALTERNATIVES: Record<string, unknown[]> = {
  hooks_output: [{ 'pre-deploy': 'quiet' }],
  secrets_path: ['.kamal/other-secrets'],
  primary_role: ['workers'],
  'builder.cache.type': ['gha'],
  'proxy.ssl.certificate_pem': ['OTHER_CERTIFICATE_PEM'],
  'proxy.ssl.private_key_pem': ['OTHER_CERTIFICATE_PEM'],
  'ssh.config': ['@PROJECT@/config/ssh_config'],
  'ssh.log_level': ['info'],
  'registry.password': [['OTHER_PASSWORD'], 'a-literal-password'],
  'env.tags': [{ canary: { CANARY: '2' } }],
  'accessories.*.role': ['web'],
  'accessories.*.tag': ['edge'],
  'accessories.*.registry.password': [['OTHER_PASSWORD']],
  'accessories.*.proxy': [{ host: 'db2.sink.example.com', app_port: 3306 }],
  'boot.parallel_roles': [true],
}

/** Keys whose whole effect is to refuse a run (Kamal's checks before anything runs): a change makes that refusal. */
const ENFORCED: Record<string, { value: unknown; error: RegExp }> = {
  require_destination: { value: true, error: /You must specify a destination/ },
  minimum_version: { value: '9.0.0', error: /minimum required is 9\.0\.0/ },
  allow_empty_roles: { value: false, error: /No servers specified for the jobs role/ },
}

/** Ways to change a value that keep it valid, tried in order. */
function mutations(value: unknown): unknown[] {
  if (typeof value === 'boolean') return [!value]
  if (typeof value === 'number') return [value + 1, value * 2, 0]
  if (typeof value === 'string') {
    const bumped = value.replace(/\d+(?!.*\d)/, (digits) => String(Number(digits) + 1))
    return [...(bumped !== value ? [bumped] : []), `${value}-changed`, `${value.replace(/[^/]+$/, 'changed')}`, 'changed', 'verbose']
  }
  if (Array.isArray(value)) return [[...value, ...value.map((item) => (typeof item === 'string' ? `${item.replace(/[^/:]+$/, '')}changed` : item))], value.slice(0, -1)]
  if (value && typeof value === 'object') return [{ ...value, kdachanged: 'changed' }]
  return ['changed']
}

function sinkWith(key: string): Document {
  const doc = parseDocument(SINK)
  const variant = Object.entries(VARIANTS).find(([pattern]) => pattern === key)?.[1]
  variant?.(doc)
  return doc
}

function concretePath(doc: Document, key: string): Array<string | number> {
  const parts = key.split('.')
  const concrete: Array<string | number> = []
  for (const part of parts) {
    if (part === '*') {
      const node = doc.getIn(concrete, true)
      if (!isMap(node)) throw new Error(`no mapping at ${concrete.join('.')} for ${key}`)
      const names = node.items.map((item) => String(isScalar(item.key) ? item.key.value : item.key))
      // the role that has the key (asset_path is honoured only on a role behind the proxy, as in Kamal)
      const rest = parts.slice(concrete.length + 1)
      const holder = names.find((name) => doc.hasIn([...concrete, name, ...rest]))
      concrete.push(holder ?? (names.includes('workers') ? 'workers' : names[0]))
    } else {
      concrete.push(part)
    }
  }
  return concrete
}

const KEYS = documentedKeys()

test('the documented keys are found (Kamal examples walked)', () => {
  expect(KEYS.length).toBeGreaterThan(120)
  expect(KEYS).toEqual(expect.arrayContaining(['builder.cache.type', 'servers.*.cmd', 'accessories.*.files', 'proxy.run.http_port', 'ssh.proxy_command', 'aliases.*']))
})

test('every table entry names a documented key', () => {
  for (const entry of [...REFUSED_KEYS, ...KAMAL_IGNORED_KEYS]) expect(KEYS.some((key) => matchesKey(entry.key, key))).toBe(true)
})

const base = new Map<string, string>()
const observeDoc = (doc: Document) => observe(String(doc))

describe.each(KEYS)('%s', (key) => {
  const refused = REFUSED_KEYS.find((entry) => matchesKey(entry.key, key))
  const ignored = KAMAL_IGNORED_KEYS.find((entry) => matchesKey(entry.key, key))

  if (refused) {
    test(`is refused at its line: ${refused.reason}`, () => {
      const doc = sinkWith(key)
      const at = concretePath(doc, key)
      if (!doc.hasIn(at)) doc.setIn(at, refused.example)
      const text = String(doc)
      const observed = observe(text)
      const line = text.split('\n').findIndex((row) => row.trimStart().startsWith(`${String(at[at.length - 1])}:`)) + 1
      expect(observed).toContain(refused.reason)
      // at the key, or at its section when the refusal is of the section's use
      expect(observed).toMatch(new RegExp(`@(${line - 1}|${line}|${line + 1})$`))
    })
    return
  }
  if (ignored) {
    test(`is ignored, as Kamal ignores it: ${ignored.reason}`, () => {
      const doc = sinkWith(key)
      const at = concretePath(doc, key)
      const before = observeDoc(doc)
      doc.setIn(at, mutations(doc.getIn(at))[0])
      expect(observeDoc(doc)).toBe(before)
    })
    return
  }

  const enforced = ENFORCED[key]
  if (enforced) {
    test(`is enforced before the run: ${enforced.error.source}`, () => {
      const doc = sinkWith(key)
      const at = concretePath(doc, key)
      expect(observeDoc(doc)).not.toMatch(/^ERROR/)
      doc.setIn(at, enforced.value)
      expect(observeDoc(doc)).toMatch(enforced.error)
    })
    return
  }

  test('changes what the action does when its value changes', () => {
    const doc = sinkWith(key)
    const at = concretePath(doc, key)
    expect(doc.hasIn(at)).toBe(true)
    const variantKey = Object.keys(VARIANTS).includes(key) ? key : ''
    const before = base.get(variantKey) ?? observeDoc(doc)
    base.set(variantKey, before)
    expect(before).not.toMatch(/^ERROR/)
    const node = doc.getIn(at)
    const value = isSeq(node) || isMap(node) ? (node as { toJSON: () => unknown }).toJSON() : node
    const tried: string[] = []
    for (const candidate of [...(ALTERNATIVES[key] ?? []), ...mutations(value)]) {
      const changed = sinkWith(key)
      changed.setIn(at, changed.createNode(candidate))
      const after = observeDoc(changed)
      if (!after.startsWith('ERROR') && after !== before) return
      tried.push(`${JSON.stringify(candidate)} → ${after.startsWith('ERROR') ? after.slice(0, 200) : 'no change'}`)
    }
    throw new Error(`${key} is validated but changes nothing the action does (tried ${tried.join('; ')}). Honour it as Kamal does, or add it to REFUSED_KEYS in src/config/key-dispositions.ts with the reason.`)
  })
})
