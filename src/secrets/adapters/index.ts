import { CommandFailedError } from '../dotenv'
import { SecretsAdapter } from './adapter'
import { awsSecretsManagerAdapter } from './aws-secrets-manager'
import { bitwardenAdapter } from './bitwarden'
import { dopplerAdapter } from './doppler'
import { onePasswordAdapter } from './one-password'
import { testAdapter } from './test-adapter'

const ADAPTERS: Record<string, SecretsAdapter> = {
  one_password: onePasswordAdapter,
  bitwarden: bitwardenAdapter,
  aws_secrets_manager: awsSecretsManagerAdapter,
  doppler: dopplerAdapter,
  test: testAdapter,
}

/** Kamal adapters this action does not run in-process. */
const KAMAL_ONLY = new Set(['bitwarden_secrets_manager', 'last_pass', 'gcp_secret_manager', 'enpass', 'passbolt'])

const ALIASES: Record<string, string> = {
  '1password': 'one_password',
  lastpass: 'last_pass',
  gcp: 'gcp_secret_manager',
  'bitwarden-sm': 'bitwarden_secrets_manager',
}

export const SUPPORTED_ADAPTERS = ['1password', 'bitwarden', 'aws_secrets_manager', 'doppler', 'test']

/** Kamal's adapter lookup: a few aliases (case-insensitive), otherwise the snake_case name. */
export function lookupAdapter(name: string): SecretsAdapter {
  const canonical = ALIASES[name.toLowerCase()] ?? name
  const adapter = Object.hasOwn(ADAPTERS, canonical) ? ADAPTERS[canonical] : undefined
  if (adapter !== undefined) return adapter
  const fix =
    `Use one of ${SUPPORTED_ADAPTERS.join(', ')}, or fetch the secret in an earlier workflow step ` +
    "and pass it through the action's `secrets` input"
  if (KAMAL_ONLY.has(canonical)) {
    throw new CommandFailedError(`The ${name} secrets adapter is not supported by this action. ${fix}`, true)
  }
  throw new CommandFailedError(`Unknown secrets adapter: ${name}. ${fix}`, true)
}
