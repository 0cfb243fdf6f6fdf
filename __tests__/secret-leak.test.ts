import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { runAction, type ActionRun } from './support/run-action'

// Runs the action in the ways that handle secrets — a plan with secrets from
// every source, a missing secret, a failing secrets command — and searches
// everything it printed and wrote for the secret values.
const DEMO = path.resolve(__dirname, '../examples/demo')

const INPUT_PASSWORD = 'leak-check-registry-password-7f3a'
const ENV_ONLY = 'leak-check-env-only-value-91c2'
const MULTILINE_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nleakcheckkeyline1AAAA\nleakcheckkeyline2BBBB\n-----END OPENSSH PRIVATE KEY-----'
const FILE_SECRETS = ['demo-database-password', 'NEKOT_IPA_OMED', 'demo-api-token-for-production']

function project(secrets: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leak-'))
  fs.cpSync(DEMO, dir, { recursive: true })
  fs.appendFileSync(path.join(dir, '.kamal/secrets-common'), secrets)
  return dir
}

function visibleText(run: ActionRun): string {
  // `::add-mask::` lines are how a value is registered for masking; the runner consumes them.
  const stdout = run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')).join('\n')
  return [stdout, run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n')
}

describe('no secret value reaches the log, the summary or the outputs', () => {
  const runs: ActionRun[] = []
  beforeAll(() => {
    const withEnvSecret = project('FROM_ENV=$LEAK_CHECK_ENV\n')
    const config = path.join(withEnvSecret, 'config/deploy.yml')
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('    - API_TOKEN:DEMO_API_TOKEN\n', '    - API_TOKEN:DEMO_API_TOKEN\n    - FROM_ENV\n'))
    const env = { LEAK_CHECK_ENV: ENV_ONLY }
    runs.push(runAction(withEnvSecret, { command: 'plan', destination: 'staging', version: 'v1', secrets: `KAMAL_REGISTRY_PASSWORD=${INPUT_PASSWORD}`, 'ssh-private-key': MULTILINE_KEY }, env, 'source'))
    runs.push(runAction(withEnvSecret, { command: 'plan', version: 'v1', secrets: JSON.stringify({ KAMAL_REGISTRY_PASSWORD: INPUT_PASSWORD }) }, env, 'source'))
    runs.push(runAction(withEnvSecret, { command: 'deploy', version: 'v1', secrets: `KAMAL_REGISTRY_PASSWORD=${INPUT_PASSWORD}` }, env, 'source'))

    const missing = project('')
    fs.appendFileSync(path.join(missing, 'config/deploy.yml'), '')
    fs.writeFileSync(path.join(missing, '.kamal/secrets'), `DEMO_API_TOKEN=demo-api-token-for-production\nBROKEN=$(echo $LEAK_CHECK_ENV; exit 4)\n`)
    runs.push(runAction(missing, { command: 'plan', version: 'v1', secrets: `KAMAL_REGISTRY_PASSWORD=${INPUT_PASSWORD}` }, { LEAK_CHECK_ENV: ENV_ONLY }, 'source'))
  })

  test('the runs happened (plans succeeded, broken ones failed)', () => {
    expect(runs.map((run) => run.status)).toEqual([0, 0, 1, 1])
  })

  test.each([INPUT_PASSWORD, ENV_ONLY, ...FILE_SECRETS, 'leakcheckkeyline1AAAA', 'leakcheckkeyline2BBBB'])('%s is nowhere', (secret) => {
    for (const run of runs) expect(visibleText(run)).not.toContain(secret)
  })

  test('every secret value, and each line of a multi-line one, was registered for masking', () => {
    const masks = new Set(runs.flatMap((run) => run.stdout.split('\n').filter((line) => line.startsWith('::add-mask::')).map((line) => line.slice('::add-mask::'.length))))
    for (const value of [INPUT_PASSWORD, ENV_ONLY, ...FILE_SECRETS, 'leakcheckkeyline1AAAA', 'leakcheckkeyline2BBBB']) expect(masks).toContain(value)
  })
})
