import { ALIAS_EXAMPLE } from '../examples'
import { checkAgainstExample } from './example-walker'
import type { IssueCollector } from './issues'
import { isHash } from './ruby-values'

/** Top-level commands of the kamal CLI; an alias may not shadow one. */
const KAMAL_COMMANDS = [
  'setup', 'deploy', 'redeploy', 'rollback', 'details', 'audit', 'config', 'docs', 'init', 'remove', 'upgrade', 'version',
  'accessory', 'app', 'build', 'lock', 'proxy', 'prune', 'registry', 'secrets', 'server',
]

const ALIAS_NAME = /^[a-z0-9_-]+$/

export function checkAliases(c: IssueCollector, aliases: unknown): void {
  if (!isHash(aliases)) return
  for (const [name, command] of Object.entries(aliases)) {
    const path = ['aliases', name]
    if (!checkAgainstExample(c, command, ALIAS_EXAMPLE, path)) continue
    if (!ALIAS_NAME.test(name)) {
      c.add(
        path,
        `Invalid alias name: '${name}'. Must only contain lowercase letters, alphanumeric, hyphens and underscores.`,
        `Rename it using only a-z, 0-9, - and _, e.g. \`${suggestAliasName(name)}\`.`,
        { focusKey: true },
      )
    } else if (KAMAL_COMMANDS.includes(name)) {
      c.add(path, `Alias '${name}' conflicts with a built-in command.`, `Pick another name; \`kamal ${name}\` is already a command.`, {
        focusKey: true,
      })
    }
  }
}

function suggestAliasName(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '')
  return cleaned === '' ? 'my-alias' : cleaned
}
