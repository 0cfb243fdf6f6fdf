import { InputError } from '../errors'

const DOTENV_LINE = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*=(.*)$/
const QUOTED = /^(["'])([\s\S]*)\1$/

/**
 * The action's `secrets` input: either a JSON object of strings (as written by
 * `${{ toJSON(secrets) }}`) or `KEY=value` lines. Lines are taken literally: no
 * `$VAR`, no `$(…)`, no escapes; only blanks around the value and one pair of
 * matching surrounding quotes are removed. Errors never quote a value.
 */
export function parseSecretsInput(text: string): Record<string, string> {
  const trimmed = text.trim()
  if (trimmed === '') return {}
  return trimmed.startsWith('{') ? parseJsonObject(trimmed) : parseLines(text)
}

function parseJsonObject(text: string): Record<string, string> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    // JSON.parse's message quotes the text, which holds secrets.
    throw new InputError('secrets', 'starts with `{` but is not valid JSON. Pass `${{ toJSON(secrets) }}`, or use KEY=value lines')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InputError('secrets', 'must be a JSON object of names to strings, or KEY=value lines')
  }
  const secrets: Record<string, string> = Object.create(null)
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') {
      throw new InputError('secrets', `the value of ${key} is a ${value === null ? 'null' : typeof value}, not a string. Quote it in the JSON`)
    }
    secrets[key] = value
  }
  return secrets
}

function parseLines(text: string): Record<string, string> {
  const secrets: Record<string, string> = Object.create(null)
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '' || line.trim().startsWith('#')) return
    const match = DOTENV_LINE.exec(line)
    if (match === null) {
      throw new InputError('secrets', `line ${index + 1} is not KEY=value. Write one NAME=value per line, or pass \`\${{ toJSON(secrets) }}\``)
    }
    const value = match[2].replace(/^[ \t]+|[ \t]+$/g, '')
    secrets[match[1]] = QUOTED.exec(value)?.[2] ?? value
  })
  return secrets
}
