import { randomBytes } from 'node:crypto'
import { PLACEHOLDER_PATTERN } from '../plan/steps'

/** Runtime values of one unit (the old version, the new container's id, …). */
export type Values = Map<string, string>

/** Values the executor makes itself when a command asks for them. */
const GENERATED: Record<string, () => string> = {
  hostname_hex: () => randomBytes(6).toString('hex'),
  replaced: () => randomBytes(8).toString('hex'),
}

/**
 * Fills every [[kda:name]] of a command. `secret:NAME` reads a secret; generated
 * values are made once per unit so a step and its record agree.
 */
export function fillPlaceholders(command: string, values: Values, secret: (name: string) => string): string {
  return command.replace(PLACEHOLDER_PATTERN, (_, name: string) => {
    if (name.startsWith('secret:')) return secret(name.slice('secret:'.length))
    const known = values.get(name)
    if (known !== undefined) return known
    const generate = GENERATED[name]
    if (!generate) throw new Error(`internal: no value for [[kda:${name}]] in: ${command}`)
    const value = generate()
    values.set(name, value)
    return value
  })
}

/** How a placeholder reads in the plan: `<old version>`. */
export function displayPlaceholders(command: string): string {
  return command.replace(PLACEHOLDER_PATTERN, (_, name: string) => {
    if (name.startsWith('secret:')) return `$${name.slice('secret:'.length)}`
    const shown: Record<string, string> = { hostname_hex: '<12 hex>', replaced: '<16 hex>', lock_details: '<base64 lock details>' }
    return shown[name] ?? `<${name.replace(/_/g, ' ')}>`
  })
}
