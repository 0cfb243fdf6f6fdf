import { CommandFailedError } from '../dotenv'
import { describeFailure } from '../run-program'
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
 * Kamal's `1password` adapter through the `op` CLI. Secret names are
 * `vault/item[/section]/field` (an optional `op://` prefix; field defaults to
 * `password`) and results are keyed by the field's reference without `op://`
 * and without a trailing `/password`.
 */
export const onePasswordAdapter: SecretsAdapter = {
  requiresAccount: true,
  fetch(request: FetchRequest, context: AdapterContext): FetchedSecrets {
    requireCli('op', '1Password', context)
    const account = request.account as string
    const session = signIn(account, context)
    return request.names.length === 0
      ? fetchWholeItem(request.from, account, session, context)
      : fetchFields(prefixedNames(request.names, request.from), account, session, context)
  },
}

function signIn(account: string, context: AdapterContext): string | undefined {
  if (context.run(['op', 'account', 'get', '--account', account], { stderr: 'ignore' }).status === 0) return undefined
  const signin = context.run(['op', 'signin', '--account', account, '--force', '--raw'])
  if (signin.status !== 0) {
    throw new CommandFailedError(
      `Failed to login to 1Password (op signin ${describeFailure(signin)}). ` +
        'In CI, set OP_SERVICE_ACCOUNT_TOKEN for the step, or pass the secrets through the action\'s `secrets` input',
      true,
    )
  }
  const token = signin.stdout.trim()
  return token === '' ? undefined : token
}

function fetchFields(secrets: string[], account: string, session: string | undefined, context: AdapterContext): FetchedSecrets {
  const results: FetchedSecrets = new Map()
  for (const [vault, items] of groupByVaultAndItem(secrets)) {
    for (const [item, fields] of items) {
      const output = itemGet(vault, item, fields, account, session, context)
      const json = parseCliJson(output, 'op item get')
      addFields(results, fields.length === 1 ? [json] : json)
    }
  }
  return results
}

function fetchWholeItem(from: string | undefined, account: string, session: string | undefined, context: AdapterContext): FetchedSecrets {
  if (from === undefined) {
    throw new CommandFailedError('1password: give secret names, or --from op://VAULT/ITEM to fetch every field of one item', true)
  }
  const [vault = '', item = ''] = splitPath(from.replace(/^op:\/\//, ''))
  const json = parseCliJson(itemGet(vault, item, [], account, session, context), 'op item get')
  if (!isRecord(json)) throw new CommandFailedError(`op item get for ${item} did not return an item`)
  const results: FetchedSecrets = new Map()
  addFields(results, json.fields)
  return results
}

/** `vault/item/section/field` grouped as vault → item → ['section.field']. */
function groupByVaultAndItem(secrets: string[]): Map<string, Map<string, string[]>> {
  const vaults = new Map<string, Map<string, string[]>>()
  for (const secret of secrets) {
    const [vault = '', item = '', ...fieldPath] = splitPath(secret.replace(/^op:\/\//, ''))
    const items = vaults.get(vault) ?? new Map<string, string[]>()
    vaults.set(vault, items)
    const fields = items.get(item) ?? []
    items.set(item, fields)
    fields.push(fieldPath.length === 0 ? 'password' : fieldPath.join('.'))
  }
  return vaults
}

function itemGet(
  vault: string,
  item: string,
  fields: string[],
  account: string,
  session: string | undefined,
  context: AdapterContext,
): string {
  const argv = ['op', 'item', 'get', item, '--vault', vault, '--format', 'json', '--account', account]
  if (session !== undefined) argv.push('--session', session)
  if (fields.length > 0) argv.push('--fields', fields.map((field) => `label=${field}`).join(','))
  const result = context.run(argv)
  if (result.status !== 0) {
    const what = fields.length > 0 ? `${fields.join(', ')} ` : ''
    throw new CommandFailedError(`Could not read ${what}from ${item} in the ${vault} 1Password vault (op ${describeFailure(result)})`)
  }
  return result.stdout
}

function addFields(results: FetchedSecrets, fields: unknown): void {
  if (!Array.isArray(fields)) throw new CommandFailedError('op item get did not return a list of fields')
  for (const field of fields) {
    if (!isRecord(field) || typeof field.reference !== 'string') continue
    const key = field.reference.replace(/^op:\/\//, '').replace(/\/password$/, '')
    results.set(key, typeof field.value === 'string' ? field.value : null)
  }
}
