/**
 * `env` blocks. The simple form maps variable names to values; the complex
 * form uses `clear`, `secret` and (root only) `tags`.
 */
import type { IssueCollector, PathSegment } from './issues'
import { isHash } from './ruby-values'
import { checkArrayOf, checkHashOf, checkType } from './type-checks'

const SPECIAL_KEYS = ['clear', 'secret', 'tags']

const VALUE_HINT = 'Give each variable a single value; write lists or mappings as one string (e.g. JSON in quotes).'

/**
 * @param isRootEnv only the top-level env may define `tags`; a tag's own env
 *   (env/tags/<tag>) is not the root env.
 */
export function checkEnv(c: IssueCollector, env: unknown, path: PathSegment[], isRootEnv: boolean): void {
  if (!isHash(env)) return // the enclosing section already reported the type
  const keys = Object.keys(env)
  if (!keys.some((key) => SPECIAL_KEYS.includes(key))) {
    checkSimpleEnvValues(c, env, path)
    return
  }

  const unknownKeys = keys.filter((key) => !SPECIAL_KEYS.includes(key))
  if (unknownKeys.length > 0) {
    c.add(
      path,
      `unknown ${unknownKeys.length === 1 ? 'key' : 'keys'}: ${unknownKeys.join(', ')}`,
      'With clear/secret in use, move every variable under `clear:` (plain values) or list it under `secret:` (names from .kamal/secrets).',
      { focus: [...path, unknownKeys[0]], focusKey: true },
    )
  }
  if ('clear' in env) checkHashOf(c, env.clear, 'string', [...path, 'clear'])
  if ('secret' in env) {
    checkArrayOf(c, env.secret, 'string', [...path, 'secret'], {
      hint: 'List secret names, one per line, e.g. `- DB_PASSWORD` or `- DB_PASSWORD:MAIN_DB_PASSWORD`.',
    })
  }
  if ('tags' in env) checkTags(c, env.tags, path, isRootEnv)
}

function checkSimpleEnvValues(c: IssueCollector, env: Record<string, unknown>, path: PathSegment[]): void {
  for (const [name, value] of Object.entries(env)) {
    checkType(c, value, ['string'], [...path, name], { hint: VALUE_HINT })
  }
}

function checkTags(c: IssueCollector, tags: unknown, envPath: PathSegment[], isRootEnv: boolean): void {
  if (!isRootEnv) {
    c.add(
      envPath,
      'tags are only allowed in the root env',
      'Move this tags block to the top-level env; here only clear and secret are allowed.',
      { focus: [...envPath, 'tags'], focusKey: true },
    )
    return
  }
  const tagsPath = [...envPath, 'tags']
  if (!checkType(c, tags, ['hash'], tagsPath, { hint: 'Map each host tag to its env, e.g. `replica: { DB_HOST: replica-db }`.' })) {
    return
  }
  for (const [tag, tagEnv] of Object.entries(tags as Record<string, unknown>)) {
    const tagPath = [...tagsPath, tag]
    if (checkType(c, tagEnv, ['hash'], tagPath, { hint: `Give tag \`${tag}\` an env mapping (variables, or clear/secret).` })) {
      checkEnv(c, tagEnv, tagPath, false)
    }
  }
}
