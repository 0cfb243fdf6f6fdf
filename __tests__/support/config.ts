import { loadSourcedYaml } from '../../src/config/yaml-source'
import { KamalConfig } from '../../src/config/model'
import type { RawConfig } from '../../src/config/load'

/** A KamalConfig from inline YAML (no ERB, no files), for pure command-builder tests. */
export function configFromYaml(text: string, { destination, version = '999' }: { destination?: string; version?: string } = {}): KamalConfig {
  const loaded = loadSourcedYaml(text, 'config/deploy.yml')
  const raw: RawConfig = {
    raw: loaded.value as Record<string, unknown>,
    files: ['config/deploy.yml'],
    locate: (path, { key = false } = {}) => {
      const found = loaded.origins.nearest(path)
      return (key && found?.exact && found.origin.key ? found.origin.key : found?.origin.value) ?? { file: 'config/deploy.yml', line: 1, column: 1 }
    },
  }
  return new KamalConfig(raw, { destination, version, projectDir: '/nonexistent' })
}
