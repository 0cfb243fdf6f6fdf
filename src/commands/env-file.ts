import { splitSecretAlias, type EnvSpec } from '../config/env'
import { envFileValue } from '../shell'

/** The names written to a role's env file, in order (after `NAME:KEY` aliasing). */
export function envFileKeys(env: EnvSpec): string[] {
  return env.secret.map((entry) => splitSecretAlias(entry).name)
}

/**
 * Contents of `.kamal/apps/<sd>/env/roles/<role>.env` (spec §3.1): one
 * `NAME=value` line per secret; a lone newline when there are none.
 */
export function envFileContent(env: EnvSpec, secretValue: (key: string) => string): string {
  if (env.secret.length === 0) return '\n'
  return env.secret
    .map((entry) => {
      const { name, key } = splitSecretAlias(entry)
      return `${name}=${envFileValue(secretValue(key))}\n`
    })
    .join('')
}
