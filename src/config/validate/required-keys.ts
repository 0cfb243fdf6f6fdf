/**
 * The top-level keys Kamal insists on, checked after every section has been
 * validated (and after the destination requirement).
 */
import type { ConfigIssue, PathSegment } from './issues'
import { isHash, isLocalRegistryServer, isPresent } from './ruby-values'

const HINTS = {
  service: 'Add a top-level `service: my-app` (letters, digits, - and _); it prefixes container names.',
  registry:
    'Add a top-level `registry:` with server, username and password (e.g. `password: [KAMAL_REGISTRY_PASSWORD]`), or `server: localhost:5555` for a local registry.',
  image: 'Add a top-level `image: my-user/my-app` (the image name without the registry server).',
  servers: 'Add a top-level `servers:` list, e.g. `servers: [192.168.0.1]`, or define accessories.',
}

function requiredIssue(raw: Record<string, unknown>, key: keyof typeof HINTS, message: string): ConfigIssue {
  // Point at a key that is there but blank; otherwise at the file as a whole.
  const focus: PathSegment[] = Object.prototype.hasOwnProperty.call(raw, key) ? [key] : []
  return { path: [], message, focus, hint: HINTS[key] }
}

export function checkRequiredKeys(raw: unknown): ConfigIssue | null {
  if (!isHash(raw)) return null // validateConfig reports a non-mapping file

  for (const key of ['service', 'registry'] as const) {
    if (!isPresent(raw[key])) return requiredIssue(raw, key, `Missing required configuration for ${key}`)
  }

  const registryServer = isHash(raw.registry) ? raw.registry.server : undefined
  const image = isPresent(raw.image) ? raw.image : isLocalRegistryServer(registryServer) ? raw.service : undefined
  if (!isPresent(image)) return requiredIssue(raw, 'image', 'Missing required configuration for image')

  if ((raw.servers === null || raw.servers === undefined) && !isPresent(raw.accessories)) {
    return requiredIssue(raw, 'servers', 'No servers or accessories specified')
  }
  return null
}
