import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { testValueOf } from '../../src/secrets/adapters/test-adapter'
import { CommandFailedError } from '../../src/secrets/dotenv'
import { isKamalSecretsCommand, KamalSecretsContext, runKamalSecretsCommand } from '../../src/secrets/kamal-secrets-cli'
import { runProgram } from '../../src/secrets/run-program'
import { shellSplit } from '../../src/secrets/shell-split'
import { FakeCliDir } from './fake-cli'

function contextWith(env: NodeJS.ProcessEnv, seen: string[] = []): KamalSecretsContext {
  return {
    env,
    run: (argv, options = {}) => runProgram(argv, { env: options.env ?? env, stderr: options.stderr ?? 'ignore' }),
    onSecretValue: (value) => seen.push(value),
  }
}

const emptyPath = { PATH: mkdtempSync(path.join(tmpdir(), 'empty-path-')) }
const run = (command: string, env: NodeJS.ProcessEnv = emptyPath) => runKamalSecretsCommand(command, contextWith(env))

describe('the test adapter (spec §5.3)', () => {
  test.each([
    ['INTERPOLATED_SECRET1', '1TERCES_DETALOPRETNI'],
    ['INTERPOLATED_SECRET2', '2TERCES_DETALOPRETNI'],
    ['INTERPOLATED_中文', '文中_DETALOPRETNI'],
    ['INTERPOLATED_LPARENRPAREN', ')(_DETALOPRETNI'],
    ['foo', 'oof'],
  ])('%s → %s', (name, value) => {
    expect(testValueOf(name)).toBe(value)
  })

  test('fetch returns the JSON object shell-escaped, in the order asked', () => {
    const output = run('kamal secrets fetch foo bar baz --account myaccount --adapter test')
    expect(shellSplit(output)).toEqual(['{"foo":"oof","bar":"rab","baz":"zab"}'])
    expect(output).toBe('\\{\\"foo\\":\\"oof\\",\\"bar\\":\\"rab\\",\\"baz\\":\\"zab\\"\\}')
  })

  test('--from prefixes every name and the prefix is reversed into the value', () => {
    const output = run('kamal secrets fetch -a test --account x --from vault/item A B')
    expect(JSON.parse(shellSplit(output)[0])).toEqual({ 'vault/item/A': 'A/meti/tluav', 'vault/item/B': 'B/meti/tluav' })
  })

  test('fetched values are reported for masking', () => {
    const seen: string[] = []
    runKamalSecretsCommand('kamal secrets fetch --adapter=test --account=x ONE TWO', contextWith(emptyPath, seen))
    expect(seen).toEqual(['ENO', 'OWT'])
  })

  test('--account is required by the test adapter, as in Kamal', () => {
    expect(() => run('kamal secrets fetch --adapter test foo')).toThrow(/No value provided for required options '--account'/)
  })
})

describe('kamal secrets extract', () => {
  test('takes the exact key, else the first key ending in /NAME', () => {
    expect(run(`kamal secrets extract foo '{"foo":"oof", "bar":"rab"}'`)).toBe('oof')
    expect(run(`kamal secrets extract foo '{"abc/foo":"oof", "x/foo":"second"}'`)).toBe('oof')
  })

  test('handles escaped parentheses in the JSON argument', () => {
    expect(run('kamal secrets extract KEY1 \\{\\"KEY1\\":\\"pass\\)word\\"\\}')).toBe('pass)word')
  })

  test('a missing name is an error naming it', () => {
    expect(() => run(`kamal secrets extract nope '{"foo":"oof"}'`)).toThrow('Could not find secret nope')
  })

  test('invalid JSON is an error that does not quote the secrets', () => {
    expect(() => run(`kamal secrets extract foo '{"foo":"hunter2"'`)).toThrow(/not valid JSON/)
    expect(() => run(`kamal secrets extract foo '{"foo":"hunter2"'`)).not.toThrow(/hunter2/)
  })
})

describe('command recognition and errors', () => {
  test('only commands starting with `kamal secrets` run in-process', () => {
    expect(isKamalSecretsCommand('  kamal secrets fetch x')).toBe(true)
    expect(isKamalSecretsCommand('kamal  secrets\textract')).toBe(true)
    expect(isKamalSecretsCommand('echo kamal secrets fetch')).toBe(false)
    expect(isKamalSecretsCommand('kamal secrets')).toBe(false)
  })

  test('an unknown adapter is a clear error listing the supported ones', () => {
    expect(() => run('kamal secrets fetch --adapter vaultr --account x A')).toThrow(/Unknown secrets adapter: vaultr\. Use one of 1password, bitwarden/)
  })

  test('Kamal adapters this action does not run say so', () => {
    expect(() => run('kamal secrets fetch --adapter lastpass --account x A')).toThrow(/lastpass secrets adapter is not supported by this action/)
  })

  test('print cannot be used inside a secrets file', () => {
    expect(() => run('kamal secrets print')).toThrow(/cannot be used inside a secrets file/)
  })

  test('errors are CommandFailedErrors', () => {
    expect(() => run('kamal secrets nonsense')).toThrow(CommandFailedError)
  })
})

describe('vault CLIs that are not installed', () => {
  test.each([
    ['1password', '1Password'],
    ['bitwarden', 'Bitwarden'],
    ['aws_secrets_manager', 'AWS'],
    ['doppler', 'Doppler'],
  ])('%s → "%s CLI is not installed" with a hint', (adapter, product) => {
    const attempt = () => run(`kamal secrets fetch --adapter ${adapter} --account acct --from a/b NAME`)
    expect(attempt).toThrow(`${product} CLI is not installed`)
    expect(attempt).toThrow(/Install it in an earlier workflow step, or pass the secrets through the action's `secrets` input/)
  })
})

describe('vault adapters drive their CLIs with Kamal\'s arguments', () => {
  test('1password: signed in already; fields grouped per item; keys from the references', () => {
    const cli = new FakeCliDir().add(
      'op',
      `case "$1 $2" in
        "item get") printf '%s' '[{"reference":"op://myvault/myitem/section/SECRET1","value":"VALUE1"},{"reference":"op://myvault/myitem/password","value":"PW"}]' ;;
      esac`,
    )
    const output = run('kamal secrets fetch --adapter 1password --account myaccount --from op://myvault/myitem section/SECRET1 password', cli.env())
    expect(JSON.parse(shellSplit(output)[0])).toEqual({ 'myvault/myitem/section/SECRET1': 'VALUE1', 'myvault/myitem': 'PW' })
    expect(cli.calls()).toEqual([
      'op [--version]',
      'op [account] [get] [--account] [myaccount]',
      'op [item] [get] [myitem] [--vault] [myvault] [--format] [json] [--account] [myaccount] [--fields] [label=section.SECRET1,label=password]',
    ])
  })

  test('1password: signs in when needed and passes the session on', () => {
    const cli = new FakeCliDir().add(
      'op',
      `case "$1 $2" in
        "account get") exit 1 ;;
        "signin --account") echo "tok123" ;;
        "item get") printf '%s' '{"reference":"op://v/i/password","value":"PW"}' ;;
      esac`,
    )
    const output = run('kamal secrets fetch --adapter 1password --account acct v/i', cli.env())
    expect(JSON.parse(shellSplit(output)[0])).toEqual({ 'v/i': 'PW' })
    expect(cli.calls().slice(2)).toEqual([
      'op [signin] [--account] [acct] [--force] [--raw]',
      'op [item] [get] [i] [--vault] [v] [--format] [json] [--account] [acct] [--session] [tok123] [--fields] [label=password]',
    ])
  })

  test('aws_secrets_manager: one batch call, JSON objects expanded to NAME/KEY, --account is the profile', () => {
    const cli = new FakeCliDir().add(
      'aws',
      `[ "$1" = --version ] && exit 0
      printf '%s' '{"SecretValues":[{"Name":"app/db","SecretString":"{\\"user\\":\\"u\\",\\"port\\":5432}"},{"Name":"app/plain","SecretString":"not json"}],"Errors":[]}'`,
    )
    const output = run('kamal secrets fetch --adapter aws_secrets_manager --account prod --from app db plain', cli.env())
    expect(JSON.parse(shellSplit(output)[0])).toEqual({ 'app/db/user': 'u', 'app/db/port': '5432', 'app/plain': 'not json' })
    expect(cli.calls()[1]).toBe(
      'aws [secretsmanager] [batch-get-secret-value] [--secret-id-list] [app/db] [app/plain] [--profile] [prod] [--output] [json]',
    )
  })

  test('aws_secrets_manager: errors reported by AWS are raised', () => {
    const cli = new FakeCliDir().add('aws', `printf '%s' '{"SecretValues":[],"Errors":[{"SecretId":"x","Message":"not found"}]}'`)
    expect(() => run('kamal secrets fetch --adapter aws_secrets_manager x', cli.env())).toThrow('x: not found')
  })

  test('doppler: project and config from --from, values from "computed", keyed by bare name', () => {
    const cli = new FakeCliDir().add(
      'doppler',
      `[ "$1" = secrets ] && printf '%s' '{"SECRET1":{"computed":"secret1"},"FSECRET1":{"computed":"fsecret1"}}'; exit 0`,
    )
    const output = run('kamal secrets fetch --adapter doppler --from my-project/prd SECRET1 FSECRET1', cli.env())
    expect(JSON.parse(shellSplit(output)[0])).toEqual({ SECRET1: 'secret1', FSECRET1: 'fsecret1' })
    expect(cli.calls()).toEqual([
      'doppler [--version]',
      'doppler [me] [--json]',
      'doppler [secrets] [get] [SECRET1] [FSECRET1] [--json] [-p] [my-project] [-c] [prd]',
    ])
  })

  test('doppler: a service token replaces the project/config flags; without either it is an error', () => {
    const cli = new FakeCliDir().add('doppler', `[ "$1" = secrets ] && printf '%s' '{"A":{"computed":"a"}}'; exit 0`)
    run('kamal secrets fetch --adapter doppler A', cli.env({ DOPPLER_TOKEN: 'dp.st.xxxx' }))
    expect(cli.calls()[2]).toBe('doppler [secrets] [get] [A] [--json]')
    expect(() => run('kamal secrets fetch --adapter doppler A', cli.env())).toThrow(
      "Missing project or config from '--from=project/config' option",
    )
  })

  test('bitwarden: unlocks, syncs and reads the login password or named fields', () => {
    const cli = new FakeCliDir().add(
      'bw',
      `case "$1" in
        status) if [ -n "$BW_SESSION" ]; then echo '{"status":"unlocked"}'; else echo '{"status":"locked"}'; fi ;;
        unlock) echo session-1 ;;
        sync) [ "$BW_SESSION" = session-1 ] ;;
        get) case "$3" in
          web) echo '{"login":{"password":"pw"}}' ;;
          api) echo '{"fields":[{"name":"token","value":"tk"},{"name":"other","value":"o"}]}' ;;
          *) exit 1 ;;
        esac ;;
      esac`,
    )
    const output = run('kamal secrets fetch --adapter bitwarden --account me@example.com web api/token', cli.env())
    expect(JSON.parse(shellSplit(output)[0])).toEqual({ web: 'pw', 'api/token': 'tk' })
    expect(() => run('kamal secrets fetch --adapter bitwarden --account me@example.com missing', cli.env())).toThrow(
      'Could not read missing from Bitwarden',
    )
  })
})
