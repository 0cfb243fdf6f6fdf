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
} from './adapter'

/**
 * Kamal's `aws_secrets_manager` adapter: one `batch-get-secret-value` call;
 * `--account` is the AWS profile. A secret holding a JSON object yields one
 * entry per key (`NAME/KEY`), anything else one entry `NAME`.
 */
export const awsSecretsManagerAdapter: SecretsAdapter = {
  requiresAccount: false,
  fetch(request: FetchRequest, context: AdapterContext): FetchedSecrets {
    requireCli('aws', 'AWS', context)
    const secretIds = prefixedNames(request.names, request.from)
    const argv = ['aws', 'secretsmanager', 'batch-get-secret-value', '--secret-id-list', ...secretIds]
    if (request.account !== undefined) argv.push('--profile', request.account)
    argv.push('--output', 'json')

    const result = context.run(argv)
    if (result.status !== 0) {
      throw new CommandFailedError(`Could not read ${secretIds.join(', ')} from AWS Secrets Manager (aws ${describeFailure(result)})`)
    }
    const response = parseCliJson(result.stdout, 'aws secretsmanager batch-get-secret-value')
    if (!isRecord(response)) throw new CommandFailedError('aws secretsmanager batch-get-secret-value returned no SecretValues')
    if (Array.isArray(response.Errors) && response.Errors.length > 0) {
      const errors = response.Errors.filter(isRecord).map((error) => `${String(error.SecretId)}: ${String(error.Message)}`)
      throw new CommandFailedError(errors.join(' '))
    }

    const results: FetchedSecrets = new Map()
    for (const secret of Array.isArray(response.SecretValues) ? response.SecretValues.filter(isRecord) : []) {
      addSecret(results, String(secret.Name), secret.SecretString)
    }
    return results
  },
}

function addSecret(results: FetchedSecrets, name: string, secretString: unknown): void {
  if (typeof secretString !== 'string') {
    throw new CommandFailedError(`AWS secret ${name} has no SecretString (binary secrets are not supported)`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(secretString)
  } catch {
    results.set(name, secretString)
    return
  }
  if (isRecord(parsed)) {
    for (const [key, value] of Object.entries(parsed)) results.set(`${name}/${key}`, stringify(value))
  } else {
    results.set(name, stringify(parsed))
  }
}

function stringify(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}
