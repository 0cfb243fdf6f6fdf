import * as fs from 'node:fs'
import * as path from 'node:path'
import { ConfigError, type SourceLocation } from '../errors'
import { renderErb } from './erb'
import { loadSourcedYaml, OriginMap, type PathSegment } from './yaml-source'

export interface LoadConfigOptions {
  /** The Kamal project directory (where `config/` and `.kamal/` live). */
  projectDir: string
  /** Path of the base config, relative to projectDir. */
  configFile: string
  destination?: string
  env: NodeJS.ProcessEnv
  dockerArch?: () => string
}

/** The merged raw config plus the means to point at any of its values in the user's files. */
export interface RawConfig {
  raw: Record<string, unknown>
  files: string[]
  locate(path: readonly PathSegment[], options?: { key?: boolean }): SourceLocation
}

/** Kamal's `deploy.<dest>.yml`, next to the base file. */
export function destinationConfigFile(configFile: string, destination: string): string {
  const extension = path.extname(configFile)
  return `${configFile.slice(0, configFile.length - extension.length)}.${destination}.yml`
}

export function loadRawConfig(options: LoadConfigOptions): RawConfig {
  // Kamal sets ENV["KAMAL_DESTINATION"] = destination; Ruby deletes the variable when that is nil.
  const env: NodeJS.ProcessEnv = { ...options.env, KAMAL_DESTINATION: options.destination }
  if (!options.destination) delete env.KAMAL_DESTINATION
  const files = [options.configFile]
  if (options.destination) files.push(destinationConfigFile(options.configFile, options.destination))

  const layers = files.map((file) => {
    const absolute = path.resolve(options.projectDir, file)
    if (!fs.existsSync(absolute)) {
      const isDestination = file !== options.configFile
      throw new ConfigError(
        `Configuration file not found in ${file}. ` +
          (isDestination
            ? `Create ${file} for destination '${options.destination}', or fix the action's 'destination' input.`
            : `Set the action's 'config-file' input to your deploy config, or 'working-directory' to the project that holds it.`),
        { file: isDestination ? options.configFile : file, line: 1, column: 1 },
      )
    }
    const template = fs.readFileSync(absolute, 'utf8')
    const rendered = renderErb(template, { file, cwd: options.projectDir, env, dockerArch: options.dockerArch })
    const loaded = loadSourcedYaml(rendered.text, file, (offset) => rendered.sourcePosition(offset))
    if (!isHash(loaded.value)) {
      throw new ConfigError(`${file} must be a YAML mapping of settings (service:, image:, servers: …), not a ${describe(loaded.value)}.`, {
        file,
        line: 1,
        column: 1,
      })
    }
    return { file, value: loaded.value, origins: loaded.origins }
  })

  const raw = layers.reduce<Record<string, unknown>>((merged, layer) => deepMerge(merged, layer.value), {})
  const originLayers = layers.map((layer) => layer.origins).reverse()

  return {
    raw,
    files,
    locate(target, { key = false } = {}) {
      let best: { location: SourceLocation; depth: number } | undefined
      for (const origins of originLayers) {
        const found = origins.nearest(target)
        if (!found) continue
        const depth = found.exact ? target.length : depthOf(origins, target)
        const location = key && found.exact && found.origin.key ? found.origin.key : found.origin.value
        if (!best || depth > best.depth) best = { location, depth }
      }
      return best?.location ?? { file: options.configFile, line: 1, column: 1 }
    },
  }
}

function depthOf(origins: OriginMap, target: readonly PathSegment[]): number {
  for (let length = target.length; length >= 0; length--) if (origins.get(target.slice(0, length))) return length
  return -1
}

/** Ruby's Hash#deep_merge: hashes merge key by key, anything else is replaced by the overlay. */
export function deepMerge(base: Record<string, unknown>, overlay: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(overlay)) {
    const existing = result[key]
    result[key] = isHash(existing) && isHash(value) ? deepMerge(existing, value) : value
  }
  return result
}

export function isHash(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describe(value: unknown): string {
  if (value === null) return 'empty document'
  if (Array.isArray(value)) return 'list'
  return typeof value
}
