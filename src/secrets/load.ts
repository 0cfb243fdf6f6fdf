import { existsSync, readFileSync, statSync } from 'node:fs'
import * as path from 'node:path'
import { ConfigError, SourceLocation } from '../errors'
import { createCommandRunner } from './command-runner'
import { DotenvEntry, parseDotenv } from './dotenv'
import { maskSecretValue } from './mask'

export { parseSecretsInput } from './input'

export interface LoadSecretsOptions {
  /** the Kamal project root (secrets_path is relative to it) */
  projectDir: string
  /** config `secrets_path`, default '.kamal/secrets' */
  secretsPath?: string
  destination?: string
  /** repository secrets handed to the step (the action's `secrets` input); a key here wins over the files and its $(…) is not run */
  provided: Record<string, string>
  /** the step's environment */
  env: NodeJS.ProcessEnv
}

const DEFAULT_SECRETS_PATH = '.kamal/secrets'

/**
 * Reads `<secretsPath>-common`, then `<secretsPath>` (no destination) or
 * `<secretsPath>.<destination>`, later files overriding earlier ones, as Kamal
 * does. Every command in them runs exactly once, here; every value is masked
 * in the log as soon as it is known.
 */
export function loadSecrets(options: LoadSecretsOptions): Secrets {
  const secretsPath = options.secretsPath ?? DEFAULT_SECRETS_PATH
  const candidates = [`${secretsPath}-common`, options.destination ? `${secretsPath}.${options.destination}` : secretsPath]
  const display = (file: string) => path.relative(options.projectDir, path.resolve(options.projectDir, file)) || file

  const provided: Record<string, string> = Object.create(null)
  for (const [key, value] of Object.entries(options.provided)) {
    maskSecretValue(value)
    provided[key] = value
  }

  const fetchedValues = new Set<string>()
  const runCommand = createCommandRunner({
    cwd: options.projectDir,
    env: options.env,
    onSecretValue: (value) => {
      maskSecretValue(value)
      fetchedValues.add(value)
    },
  })

  const filesRead: string[] = []
  const fromFiles = new Map<string, DotenvEntry>()
  for (const candidate of candidates) {
    const absolute = path.resolve(options.projectDir, candidate)
    if (!isFile(absolute)) continue
    filesRead.push(display(candidate))
    const entries = parseDotenv(readFileSync(absolute, 'utf8'), {
      file: display(candidate),
      env: options.env,
      runCommand,
      skipCommandsFor: new Set(Object.keys(provided)),
      suppliedValues: provided,
      onValue: (_key, value) => maskSecretValue(value),
    })
    for (const [key, entry] of entries) fromFiles.set(key, entry)
  }

  return new Secrets({
    provided,
    fromFiles,
    env: options.env,
    filesRead,
    candidates: candidates.map(display),
    fetchedValues,
  })
}

function isFile(file: string): boolean {
  return existsSync(file) && statSync(file).isFile()
}

interface SecretsSources {
  provided: Record<string, string>
  fromFiles: ReadonlyMap<string, DotenvEntry>
  env: NodeJS.ProcessEnv
  /** the secrets files that exist, in reading order, relative to the project */
  filesRead: string[]
  /** every file that would have been read, relative to the project */
  candidates: string[]
  /** values fetched from vaults along the way (not all of them end up under a key) */
  fetchedValues: ReadonlySet<string>
}

/**
 * The loaded secrets. Lookup order: the action's `secrets` input, then the
 * secrets files, then (only for keys no file defines) the step's environment.
 */
export class Secrets {
  private readonly valuesFromEnv = new Map<string, string>()

  constructor(private readonly sources: SecretsSources) {}

  /** the secrets files that were read, relative to the project */
  get files(): readonly string[] {
    return this.sources.filesRead
  }

  get(key: string, referencedAt?: SourceLocation): string {
    const value = this.lookup(key)
    if (value === undefined) throw new ConfigError(this.notFoundMessage(key), referencedAt)
    return value
  }

  /** Kamal's `secrets.key?`: the key resolves to a value that is not blank. */
  has(key: string): boolean {
    const value = this.lookup(key)
    return value !== undefined && value.trim() !== ''
  }

  /** keys from the `secrets` input and the files (not the whole environment) */
  keys(): string[] {
    return [...new Set([...this.sources.fromFiles.keys(), ...Object.keys(this.sources.provided)])]
  }

  /** every secret value, for masking and for leak checks */
  values(): string[] {
    const all = [
      ...Object.values(this.sources.provided),
      ...[...this.sources.fromFiles.values()].map((entry) => entry.value),
      ...this.valuesFromEnv.values(),
      ...this.sources.fetchedValues,
    ]
    return [...new Set(all)].filter((value) => value !== '')
  }

  /** where a key was defined, for annotations (undefined when it came from the `secrets` input or the environment) */
  locationOf(key: string): SourceLocation | undefined {
    if (Object.hasOwn(this.sources.provided, key)) return undefined
    return this.sources.fromFiles.get(key)?.location
  }

  private lookup(key: string): string | undefined {
    if (Object.hasOwn(this.sources.provided, key)) return this.sources.provided[key]
    const entry = this.sources.fromFiles.get(key)
    if (entry !== undefined) return entry.value
    return this.fromEnvironment(key)
  }

  // An empty variable is what `${{ secrets.MISSING }}` gives, so it counts as missing.
  private fromEnvironment(key: string): string | undefined {
    const value = this.sources.env[key]
    if (value === undefined || value === '') return undefined
    if (!this.valuesFromEnv.has(key)) {
      maskSecretValue(value)
      this.valuesFromEnv.set(key, value)
    }
    return value
  }

  private notFoundMessage(key: string): string {
    const { filesRead, candidates } = this.sources
    const target = candidates[candidates.length - 1]
    const input = `or pass ${key} in the action's \`secrets\` input`
    if (filesRead.length > 0) {
      return `Secret '${key}' not found in ${filesRead.join(', ')}. Add ${key}=… to ${target}, ${input}.`
    }
    return `Secret '${key}' not found, no secret files (${candidates.join(', ')}) provided. Create ${target} with ${key}=…, ${input}.`
  }
}
