import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { startFakeGitHub } from './support/fake-github'
import { errorAnnotations, startAction } from './support/run-action'

// The Deployments calls of a deploy that cannot reach its server: the deployment
// is created, marked in_progress, then failure — checked against a local stand-in
// for the GitHub API (the real one is not reachable here).
const CONFIG = `service: api
image: acme/api
servers:
  web:
    - 127.0.0.1
ssh:
  port: 1
proxy:
  host: api.example.com
  ssl: true
registry:
  username: acme
  password: [KAMAL_REGISTRY_PASSWORD]
builder:
  arch: amd64
`

function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-deploy-'))
  fs.mkdirSync(path.join(dir, 'config'))
  fs.writeFileSync(path.join(dir, 'config/deploy.yml'), CONFIG)
  return dir
}

const githubEnv = (apiUrl: string) => ({
  GITHUB_API_URL: apiUrl,
  GITHUB_REPOSITORY: 'acme/api',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_SERVER_URL: 'https://github.example',
  GITHUB_RUN_ID: '777',
  GITHUB_RUN_ATTEMPT: '2',
})

test('creates a deployment, posts in_progress then failure, with the environment and log URLs', async () => {
  const github = await startFakeGitHub()
  try {
    const run = await startAction(
      project(),
      { command: 'deploy', version: 'v9', 'skip-push': 'true', destination: '', environment: 'staging', 'github-token': 'ghs_faketoken123', secrets: 'KAMAL_REGISTRY_PASSWORD=pw-not-used-1234' },
      githubEnv(github.url),
    ).finished
    expect(run.status).toBe(1)
    expect(errorAnnotations(run.stdout)[0].message).toMatch(/SSH to root@127\.0\.0\.1:1 failed/)
    expect(run.outputs['deployment-id']).toBe('4242')
    expect(run.outputs.url).toBe('https://api.example.com')

    expect(github.calls.map((call) => `${call.method} ${call.path} ${call.body.state ?? ''}`.trim())).toEqual([
      'POST /repos/acme/api/deployments',
      'POST /repos/acme/api/deployments/4242/statuses in_progress',
      'POST /repos/acme/api/deployments/4242/statuses failure',
    ])
    const [create, inProgress, failure] = github.calls
    expect(create.authorization).toBe('token ghs_faketoken123')
    expect(create.body).toMatchObject({ ref: '0123456789abcdef0123456789abcdef01234567', environment: 'staging', auto_merge: false, required_contexts: [], production_environment: false, payload: { version: 'v9' } })
    for (const status of [inProgress, failure]) {
      expect(status.body).toMatchObject({ environment: 'staging', environment_url: 'https://api.example.com', log_url: 'https://github.example/acme/api/actions/runs/777/attempts/2' })
    }
  } finally {
    await github.close()
  }
}, 60_000)

test('deployment: false makes no API call', async () => {
  const github = await startFakeGitHub()
  try {
    const run = await startAction(project(), { command: 'deploy', version: 'v9', 'skip-push': 'true', deployment: 'false', 'github-token': 'ghs_faketoken123', secrets: 'KAMAL_REGISTRY_PASSWORD=pw-not-used-1234' }, githubEnv(github.url)).finished
    expect(run.status).toBe(1)
    expect(github.calls).toEqual([])
    expect(run.outputs['deployment-id']).toBeUndefined()
  } finally {
    await github.close()
  }
}, 60_000)

test('a refused API call is a warning with the permission to add, not a failed deploy step', async () => {
  const github = await startFakeGitHub()
  try {
    const run = await startAction(project(), { command: 'deploy', version: 'v9', 'skip-push': 'true', 'github-token': 'ghs_faketoken123', secrets: 'KAMAL_REGISTRY_PASSWORD=pw-not-used-1234' }, { ...githubEnv(github.url), GITHUB_REPOSITORY: 'acme/unknown' }).finished
    expect(run.stdout).toMatch(/::warning::Could not create a GitHub deployment: .*permissions: deployments: write/)
    expect(errorAnnotations(run.stdout)).toHaveLength(1)
  } finally {
    await github.close()
  }
}, 60_000)
