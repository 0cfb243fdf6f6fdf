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
 * Kamal's `doppler` adapter: names are `PROJECT/CONFIG/NAME` (usually through
 * `--from PROJECT/CONFIG`); with a service token (DOPPLER_TOKEN=dp.st…) the
 * token picks the project and config. Results are keyed by the bare NAME.
 */
export const dopplerAdapter: SecretsAdapter = {
  requiresAccount: false,
  fetch(request: FetchRequest, context: AdapterContext): FetchedSecrets {
    requireCli('doppler', 'Doppler', context)
    signIn(context)

    const secrets = prefixedNames(request.names, request.from)
    if (secrets.length === 0) throw new CommandFailedError('doppler: name at least one secret to fetch', true)
    const names = secrets.map((secret) => splitPath(secret).at(-1) ?? '')
    const argv = ['doppler', 'secrets', 'get', ...names, '--json', ...projectAndConfigFlags(secrets[0], context)]

    const result = context.run(argv)
    if (result.status !== 0) throw new CommandFailedError(`Could not read ${secrets.join(', ')} from Doppler (doppler ${describeFailure(result)})`)
    const items = parseCliJson(result.stdout, 'doppler secrets get')
    if (!isRecord(items)) throw new CommandFailedError('doppler secrets get did not return an object')

    const results: FetchedSecrets = new Map()
    for (const [name, item] of Object.entries(items)) {
      results.set(name, isRecord(item) && typeof item.computed === 'string' ? item.computed : null)
    }
    return results
  },
}

function signIn(context: AdapterContext): void {
  if (context.run(['doppler', 'me', '--json'], { stderr: 'ignore' }).status === 0) return
  const login = context.run(['doppler', 'login', '-y'])
  if (login.status !== 0) {
    throw new CommandFailedError(
      `Failed to login to Doppler (doppler login ${describeFailure(login)}). In CI, set DOPPLER_TOKEN for the step`,
      true,
    )
  }
}

function projectAndConfigFlags(firstSecret: string, context: AdapterContext): string[] {
  if (context.env.DOPPLER_TOKEN?.startsWith('dp.st')) return []
  const [project, config] = splitPath(firstSecret)
  if (project === undefined || config === undefined) {
    throw new CommandFailedError("Missing project or config from '--from=project/config' option", false)
  }
  return ['-p', project, '-c', config]
}
