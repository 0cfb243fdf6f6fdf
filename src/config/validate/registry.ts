import { REGISTRY_EXAMPLE } from '../examples'
import { checkAgainstExample } from './example-walker'
import type { IssueCollector, PathSegment } from './issues'
import { isHash, isLocalRegistryServer, isPresent } from './ruby-values'

const CREDENTIAL_KEYS = ['username', 'password'] as const

/** A registry block (root, or an accessory's own). */
export function checkRegistry(c: IssueCollector, registry: unknown, path: PathSegment[]): void {
  if (!isHash(registry)) return // reported by the enclosing section
  const { username: _username, password: _password, ...rest } = registry
  checkAgainstExample(c, rest, REGISTRY_EXAMPLE, path)

  if (isLocalRegistryServer(registry.server)) return
  for (const key of CREDENTIAL_KEYS) checkCredential(c, registry, key, path)
}

function checkCredential(
  c: IssueCollector,
  registry: Record<string, unknown>,
  key: (typeof CREDENTIAL_KEYS)[number],
  registryPath: PathSegment[],
): void {
  const value = registry[key]
  const path = [...registryPath, key]
  const secretExample = key === 'password' ? 'KAMAL_REGISTRY_PASSWORD' : 'KAMAL_REGISTRY_USERNAME'
  if (!isPresent(value)) {
    const hint =
      key === 'password'
        ? `Add \`password: [${secretExample}]\` to read it from .kamal/secrets (only a localhost:PORT registry needs no login).`
        : 'Add `username: <your registry user>` (only a localhost:PORT registry needs no login).'
    // A missing key is annotated on its parent (the collector walks up to it).
    c.add(path, 'is required', hint)
    return
  }
  const valid = typeof value === 'string' || (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string')
  if (!valid) {
    c.add(
      path,
      'should be a string or an array with one string (for secret lookup)',
      `Write it as plain text or as a one-item list naming a secret, e.g. \`${key}: [${secretExample}]\`.`,
    )
  }
}
