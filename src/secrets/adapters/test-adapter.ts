import { FetchedSecrets, FetchRequest, prefixedNames, SecretsAdapter } from './adapter'

/** Kamal's `test` adapter: each (prefixed) name, LPAREN/RPAREN turned into parentheses, reversed. */
export const testAdapter: SecretsAdapter = {
  requiresAccount: true,
  fetch(request: FetchRequest): FetchedSecrets {
    return new Map(prefixedNames(request.names, request.from).map((name) => [name, testValueOf(name)]))
  },
}

export function testValueOf(name: string): string {
  // Reversed by code point, as Ruby's String#reverse does on UTF-8 text.
  return Array.from(name.replaceAll('LPAREN', '(').replaceAll('RPAREN', ')'))
    .reverse()
    .join('')
}
