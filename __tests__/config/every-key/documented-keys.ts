/** Every key path of Kamal's documented examples, with `*` for a role, an accessory or an alias name. */
import {
  ACCESSORY_EXAMPLE,
  BOOT_EXAMPLE,
  BUILDER_EXAMPLE,
  LOGGING_EXAMPLE,
  OUTPUT_EXAMPLE,
  PLACEHOLDER,
  PROXY_EXAMPLE,
  REGISTRY_EXAMPLE,
  ROLE_EXAMPLE,
  ROOT_EXAMPLE,
  SSH_EXAMPLE,
  SSHKIT_EXAMPLE,
  type ExampleHash,
} from '../../../src/config/examples'

/** Mappings whose keys are the user's own (labels, options, build args…): the mapping is the key. */
const FREE_FORM = new Set(['labels', 'options', 'args', 'hooks_output', 'clear', 'tags', 'buffering.memory'])

const SECTIONS: Record<string, ExampleHash> = {
  builder: BUILDER_EXAMPLE,
  proxy: PROXY_EXAMPLE,
  ssh: SSH_EXAMPLE,
  sshkit: SSHKIT_EXAMPLE,
  boot: BOOT_EXAMPLE,
  logging: LOGGING_EXAMPLE,
  output: OUTPUT_EXAMPLE,
  registry: { ...REGISTRY_EXAMPLE, username: 'user', password: ['PASSWORD'] },
  env: { clear: { KEY: 'value' }, secret: ['SECRET'], tags: { tag: { KEY: 'value' } } },
}

function walk(example: ExampleHash, prefix: string, keys: string[]): void {
  for (const [key, value] of Object.entries(example)) {
    const path = prefix ? `${prefix}.${key}` : key
    if (value === PLACEHOLDER) {
      if (key === 'servers') walk({ ...ROLE_EXAMPLE, logging: PLACEHOLDER, proxy: PLACEHOLDER, env: PLACEHOLDER }, 'servers.*', keys.concat())
      continue
    }
    if (value && typeof value === 'object' && !Array.isArray(value) && !FREE_FORM.has(key)) walk(value, path, keys)
    else keys.push(path)
  }
}

export function documentedKeys(): string[] {
  const keys: string[] = []
  walk(Object.fromEntries(Object.entries(ROOT_EXAMPLE).filter(([, value]) => value !== PLACEHOLDER)), '', keys)
  for (const [section, example] of Object.entries(SECTIONS)) walk(example, section, keys)
  // servers.<role>: the role's own keys (its logging, proxy and env are the sections above)
  for (const key of Object.keys(ROLE_EXAMPLE).filter((name) => ROLE_EXAMPLE[name] !== PLACEHOLDER)) keys.push(`servers.*.${key}`)
  keys.push('servers.*.env.clear', 'servers.*.env.secret', 'servers.*.logging.driver', 'servers.*.proxy')
  for (const key of Object.keys(ACCESSORY_EXAMPLE).filter((name) => ACCESSORY_EXAMPLE[name] !== PLACEHOLDER)) keys.push(`accessories.*.${key}`)
  keys.push('accessories.*.registry.server', 'accessories.*.registry.username', 'accessories.*.registry.password', 'accessories.*.env.clear', 'accessories.*.env.secret', 'accessories.*.proxy')
  keys.push('aliases.*')
  return [...new Set(keys)]
}

/** `servers.*.cmd` matches `servers.*.cmd`; a table key without `*` matches itself and everything under it. */
export function matchesKey(pattern: string, key: string): boolean {
  return key === pattern || key.startsWith(`${pattern}.`)
}
