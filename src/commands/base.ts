import { escapeShellValue, singleQuote } from '../shell'

/**
 * Command lines are built from tokens and joined with single spaces, the way
 * Kamal/SSHKit join their argument arrays. Tokens are either literal shell
 * syntax written here or values passed through src/shell.ts.
 */
export type Token = string | number

export function line(...tokens: Array<Token | undefined | false | null>): string {
  return tokens.filter((token): token is Token => token !== undefined && token !== false && token !== null && token !== '').join(' ')
}

export const docker = (...tokens: Array<Token | undefined | false | null>): string => line('docker', ...tokens)

export const combine = (commands: string[], by = '&&'): string => commands.filter(Boolean).join(` ${by} `)

/**
 * Commands that always run together, one after another, stopping at the first failure: one
 * SSH exec instead of several. A command with its own `||` or `;` is grouped so `&&` cannot
 * change what it means.
 */
export const together = (commands: string[]): string => combine(commands.map((command) => (/\|\||;/.test(command) ? `{ ${command}; }` : command)))
export const pipe = (...commands: string[]): string => combine(commands, '|')
export const any = (...commands: string[]): string => combine(commands, '||')
export const chain = (...commands: string[]): string => combine(commands, ';')

/** Kamal's `shell`: wraps a command for `sh -c` so a pipeline or `;` stays one unit. */
export const shell = (command: string): string => line('sh', '-c', singleQuote(command))

export const xargs = (command: string): string => `xargs ${command}`

export const makeDirectory = (path: string): string => line('mkdir', '-p', path)

export function containerIdFor(containerName: string, onlyRunning = false): string {
  return docker('container', 'ls', !onlyRunning && '--all', '--filter', `'name=^${containerName}$'`, '--quiet')
}

/** Kamal::Utils.argumentize: `--flag key="value"`, bare `--flag key` when blank, `key=false` for false. */
export function argumentize(flag: string, attributes: Record<string, unknown> | unknown[]): string[] {
  if (Array.isArray(attributes)) return attributes.flatMap((item) => [flag, String(item)])
  return Object.entries(attributes).flatMap(([key, value]) => {
    if (isPresent(value)) return [flag, `${key}=${escapeShellValue(value)}`]
    if (value === false) return [flag, `${key}=false`]
    return [flag, key]
  })
}

/** Kamal::Utils.optionize: `--key "value"`, or `--key="value"` with `equals`; `true` → bare flag; arrays repeat. */
export function optionize(options: Array<[string, unknown]> | Record<string, unknown>, { equals = false } = {}): string[] {
  const entries = Array.isArray(options) ? options : Object.entries(options)
  const flat = entries.flatMap(([key, value]) => (Array.isArray(value) ? value.map((item) => [key, item] as [string, unknown]) : [[key, value] as [string, unknown]]))
  return flat.flatMap(([key, value]) => {
    if (value === true) return [`--${key}`]
    return equals ? [`--${key}=${escapeShellValue(value)}`] : [`--${key}`, escapeShellValue(value)]
  })
}

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false
  if (typeof value === 'string') return value.trim() !== ''
  return true
}
