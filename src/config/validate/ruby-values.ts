/**
 * Ruby's notions of truthiness and blankness, applied to plain YAML values.
 * Kamal's rules are written with `present?`, `blank?` and `if value`, which
 * do not match JavaScript's truthiness (0 and "" are truthy in Ruby).
 */

export type Hash = Record<string, unknown>

/** A YAML mapping (not a list, not null, not a Date). */
export function isHash(value: unknown): value is Hash {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

/** Ruby truthiness: everything except nil and false. */
export function isTruthy(value: unknown): boolean {
  return value !== null && value !== undefined && value !== false
}

/** ActiveSupport's `blank?`: nil, false, whitespace-only strings, empty lists and mappings. */
export function isBlank(value: unknown): boolean {
  if (value === null || value === undefined || value === false) return true
  if (typeof value === 'string') return /^\s*$/.test(value)
  if (Array.isArray(value)) return value.length === 0
  if (isHash(value)) return Object.keys(value).length === 0
  return false
}

export function isPresent(value: unknown): boolean {
  return !isBlank(value)
}

/** Ruby's `value || {}` for an optional section. */
export function orEmptyHash(value: unknown): unknown {
  return isTruthy(value) ? value : {}
}

/** How Ruby interpolates a scalar into a message (`"#{value}"`). */
export function rubyToS(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}

/** Ruby's `^localhost[:$]` test that marks a local registry (`^` matches at any line start). */
export function isLocalRegistryServer(server: unknown): boolean {
  return typeof server === 'string' && /^localhost[:$]/m.test(server)
}
