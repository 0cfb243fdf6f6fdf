import { BUILDER_EXAMPLE } from '../examples'
import { checkAgainstExample } from './example-walker'
import type { IssueCollector, PathSegment } from './issues'
import { isBlank, isHash, isTruthy, rubyToS } from './ruby-values'

const CACHE_TYPES = ['gha', 'registry']

export function checkBuilder(c: IssueCollector, builder: unknown, path: PathSegment[]): void {
  if (!checkAgainstExample(c, builder, BUILDER_EXAMPLE, path)) return
  const config = builder as Record<string, unknown>

  const cache = config.cache
  if (isHash(cache) && isTruthy(cache.type) && !CACHE_TYPES.includes(cache.type as string)) {
    c.add(path, `Invalid cache type: ${rubyToS(cache.type)}`, 'Set the cache type to gha (GitHub Actions cache) or registry.', {
      focus: [...path, 'cache', 'type'],
    })
  }

  if (isBlank(config.arch)) {
    c.add(path, 'Builder arch not set', 'Add `arch: amd64` (or arm64, or a list of both) under builder.', {
      focus: path,
      focusKey: true,
    })
  }

  if (isTruthy(config.pack) && Array.isArray(config.arch) && config.arch.length > 1) {
    c.add(path, 'buildpacks only support building for one arch', 'Buildpacks build one platform: set a single arch, e.g. `arch: amd64`.', {
      focus: [...path, 'arch'],
    })
  }

  if (config.local === false && isBlank(config.remote)) {
    c.add(
      path,
      'Cannot disable local builds, no remote is set',
      'Set `remote:` to a builder host (e.g. ssh://docker@builder-host) or remove `local: false`.',
      { focus: [...path, 'local'], focusKey: true },
    )
  }
}
