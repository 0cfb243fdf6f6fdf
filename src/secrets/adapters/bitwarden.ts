import { CommandFailedError } from '../dotenv'
import { ProgramResult } from '../run-program'
import {
  AdapterContext,
  FetchedSecrets,
  FetchRequest,
  isRecord,
  parseCliJson,
  prefixedNames,
  requireCli,
  SecretsAdapter,
  splitPath,
} from './adapter'

/**
 * Kamal's `bitwarden` adapter through the `bw` CLI. A name is `ITEM` (the
 * login password, or every custom field when it has no password) or
 * `ITEM/FIELD` (one custom field, keyed `ITEM/FIELD`).
 */
export const bitwardenAdapter: SecretsAdapter = {
  requiresAccount: true,
  fetch(request: FetchRequest, context: AdapterContext): FetchedSecrets {
    requireCli('bw', 'Bitwarden', context)
    const session = unlock(request.account as string, context)
    const results: FetchedSecrets = new Map()
    for (const [item, fields] of groupByItem(prefixedNames(request.names, request.from))) {
      const result = bw(['get', 'item', item], session, context)
      if (result.status !== 0) throw new CommandFailedError(`Could not read ${item} from Bitwarden`)
      const itemJson = parseCliJson(result.stdout.trim(), 'bw get item')
      if (!isRecord(itemJson)) throw new CommandFailedError(`bw get item ${item} did not return an item`)
      const password = isRecord(itemJson.login) ? itemJson.login.password : undefined
      const customFields = Array.isArray(itemJson.fields) ? itemJson.fields.filter(isRecord) : []

      if (fields.some((field) => field !== undefined)) {
        addFields(results, item, fields, customFields)
      } else if (password !== undefined && password !== null) {
        results.set(item, String(password))
      } else if (customFields.length > 0) {
        addFields(results, item, customFields.map((field) => String(field.name)), customFields)
      } else {
        throw new CommandFailedError(`Item ${item} is not a login type item and no fields were specified`)
      }
    }
    return results
  },
}

function unlock(account: string, context: AdapterContext): string | undefined {
  let session: string | undefined
  let status = bwStatus(undefined, context)
  if (status === 'unauthenticated') {
    bw(['login', account], undefined, context)
    status = bwStatus(undefined, context)
  }
  if (status === 'locked') {
    const token = bw(['unlock', '--raw'], undefined, context).stdout.trim()
    session = token === '' ? undefined : token
    status = bwStatus(session, context)
  }
  if (status !== 'unlocked') {
    throw new CommandFailedError(
      'Failed to login to and unlock Bitwarden. In CI, unlock in an earlier step and export BW_SESSION, ' +
        "or pass the secrets through the action's `secrets` input",
      true,
    )
  }
  if (bw(['sync'], session, context).status !== 0) throw new CommandFailedError('Failed to sync Bitwarden')
  return session
}

function bwStatus(session: string | undefined, context: AdapterContext): unknown {
  const json = parseCliJson(bw(['status'], session, context).stdout.trim(), 'bw status')
  return isRecord(json) ? json.status : undefined
}

// Kamal prefixes the command with `BW_SESSION=…`; an argv runner passes it through the environment.
function bw(args: string[], session: string | undefined, context: AdapterContext): ProgramResult {
  const env = session === undefined ? context.env : { ...context.env, BW_SESSION: session }
  return context.run(['bw', ...args], { env })
}

/** `ITEM/FIELD` names grouped by item; a bare `ITEM` contributes an undefined field. */
function groupByItem(secrets: string[]): Map<string, (string | undefined)[]> {
  const items = new Map<string, (string | undefined)[]>()
  for (const secret of secrets) {
    const [item = '', field] = splitPath(secret)
    items.set(item, [...(items.get(item) ?? []), field])
  }
  return items
}

function addFields(
  results: FetchedSecrets,
  item: string,
  fields: (string | undefined)[],
  customFields: Record<string, unknown>[],
): void {
  for (const field of fields) {
    const found = customFields.find((candidate) => candidate.name === field)
    if (found === undefined) throw new CommandFailedError(`Could not find field ${field ?? ''} in item ${item} in Bitwarden`)
    results.set(`${item}/${field}`, typeof found.value === 'string' ? found.value : null)
  }
}
