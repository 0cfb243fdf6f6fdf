/**
 * Kamal 2's structural config validation.
 *
 * Input is the raw config after YAML load and destination merge. Sections are
 * checked in the order Kamal builds its configuration, so the first issue is
 * the one Kamal would report:
 *   root keys → servers and roles (sorted; each with env, logging, proxy) →
 *   registry → accessories (each with roles, env, proxy, registry) → aliases →
 *   boot → builder → env → logging → output → proxy → ssh → sshkit.
 *
 * The top-level required keys are a separate, later step (`checkRequiredKeys`),
 * because Kamal checks the destination requirement in between.
 */
import {
  BOOT_EXAMPLE,
  LOGGING_EXAMPLE,
  OUTPUT_EXAMPLE,
  ROOT_EXAMPLE,
  SSH_EXAMPLE,
  SSHKIT_EXAMPLE,
} from './examples'
import { checkAccessories } from './validate/accessories'
import { checkAliases } from './validate/aliases'
import { checkBuilder } from './validate/builder'
import { checkEnv } from './validate/env'
import { checkAgainstExample } from './validate/example-walker'
import { IssueCollector, type ConfigIssue } from './validate/issues'
import { checkProxy } from './validate/proxy'
import { checkRegistry } from './validate/registry'
import { isHash, orEmptyHash } from './validate/ruby-values'
import { checkServers } from './validate/servers'

export type { ConfigIssue, PathSegment } from './validate/issues'
export { checkRequiredKeys } from './validate/required-keys'
import { checkRequiredKeys } from './validate/required-keys'

/** Every issue found (best effort), in Kamal's order. */
export function validateConfigAll(raw: unknown): ConfigIssue[] {
  const c = new IssueCollector(raw)
  if (!isHash(raw)) {
    c.add([], 'should be a hash', 'The config file must be a mapping of top-level keys (service, image, servers, …).')
    return c.issues
  }

  checkAgainstExample(c, raw, ROOT_EXAMPLE, [], { allowExtensions: true, isRoot: true })
  checkServers(c, raw)
  checkRegistry(c, orEmptyHash(raw.registry), ['registry'])
  checkAccessories(c, raw)
  checkAliases(c, raw.aliases)
  checkSection(c, orEmptyHash(raw.boot), BOOT_EXAMPLE, 'boot')
  checkBuilder(c, orEmptyHash(raw.builder), ['builder'])
  checkEnv(c, orEmptyHash(raw.env), ['env'], true)
  checkSection(c, orEmptyHash(raw.logging), LOGGING_EXAMPLE, 'logging')
  checkOutput(c, orEmptyHash(raw.output))
  checkRootProxy(c, raw.proxy)
  checkSection(c, orEmptyHash(raw.ssh), SSH_EXAMPLE, 'ssh')
  checkSection(c, orEmptyHash(raw.sshkit), SSHKIT_EXAMPLE, 'sshkit')
  return c.issues
}

/** The first issue Kamal would report, or null when the structure is valid. */
export function validateConfig(raw: unknown): ConfigIssue | null {
  return validateConfigAll(raw)[0] ?? null
}

/** A plain section; a wrong type was already reported by the root check. */
function checkSection(c: IssueCollector, value: unknown, example: typeof BOOT_EXAMPLE, key: string): void {
  if (isHash(value)) checkAgainstExample(c, value, example, [key])
}

function checkOutput(c: IssueCollector, output: unknown): void {
  if (isHash(output) && Object.keys(output).length > 0) checkAgainstExample(c, output, OUTPUT_EXAMPLE, ['output'])
}

/** The root accepts `proxy: true/false`, but the proxy section itself must then be a mapping. */
function checkRootProxy(c: IssueCollector, proxy: unknown): void {
  if (proxy === null || proxy === undefined) return
  if (isHash(proxy)) {
    checkProxy(c, proxy, ['proxy'])
  } else if (typeof proxy === 'boolean') {
    c.add(['proxy'], 'should be a hash', 'Configure the proxy with a mapping (host, app_port, ssl, …); to turn it off for a role use `proxy: false` on that role.')
  }
}

/** The first structural issue of a loaded config, then (once typed) the first missing required key. */
export function firstIssue(source: { raw: unknown }, stage: 'structure' | 'required'): ConfigIssue | null {
  return stage === 'structure' ? validateConfig(source.raw) : checkRequiredKeys(source.raw)
}
