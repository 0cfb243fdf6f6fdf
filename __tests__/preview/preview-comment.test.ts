import { spawn } from 'node:child_process'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { commentMarker } from '../../src/preview/naming'
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github'

const TSX = pathToFileURL(require.resolve('tsx')).href
const DRIVER = path.join(__dirname, 'support/github-driver.ts')

let github: FakeGitHub
beforeEach(async () => {
  github = await startFakeGitHub()
})
afterEach(() => github.close())

const api = () => ({ token: 'ghs_test', owner: 'acme', repo: 'shop', apiUrl: github.url })

/** The operations in a child process (not blocking this one, where the stand-in answers). */
function drive(operations: unknown[], target: object = api()): Promise<{ results: unknown[]; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, DRIVER, JSON.stringify(target), JSON.stringify(operations)], { env: { ...process.env, GITHUB_ACTIONS: '' } })
    let stdout = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stdout += chunk))
    child.on('close', () => {
      const line = stdout.split('\n').find((item) => item.startsWith('@@RESULT@@'))
      if (!line) reject(new Error(`driver failed:\n${stdout}`))
      else resolve({ results: JSON.parse(line.slice('@@RESULT@@'.length)) as unknown[], stdout })
    })
  })
}

describe('the sticky preview comment, against the GitHub API stand-in', () => {
  test('is created once, then edited in place, by this and later runs; other comments are left alone', async () => {
    github.comments.push({ id: 11, issue: 5, body: 'a reviewer' }, { id: 12, issue: 6, body: `${commentMarker('shop')}\nanother PR` })
    const marker = commentMarker('shop')
    const { results } = await drive([
      { kind: 'writes', pr: 5, service: 'shop', bodies: [`${marker}\ndeploying`, `${marker}\ndeployed`] },
      { kind: 'writes', pr: 5, service: 'shop', bodies: [`${marker}\nsecond push`] },
    ])
    const [[first, second], [later]] = results as number[][]
    expect(first).toBeGreaterThan(0)
    expect([second, later]).toEqual([first, first])
    expect(github.comments.filter((comment) => comment.issue === 5)).toEqual([
      { id: 11, issue: 5, body: 'a reviewer' },
      { id: first, issue: 5, body: `${marker}\nsecond push` },
    ])
    const writes = github.calls.filter((call) => call.method !== 'GET').map((call) => `${call.method} ${call.path}`)
    expect(writes).toEqual(['POST /repos/acme/shop/issues/5/comments', `PATCH /repos/acme/shop/issues/comments/${first}`, `PATCH /repos/acme/shop/issues/comments/${first}`])
    expect(github.calls.every((call) => call.authorization === 'token ghs_test')).toBe(true)
    expect(github.comments.find((comment) => comment.id === 12)?.body).toContain('another PR')
  })

  test('an unreachable API is a warning, not a failure', async () => {
    const { results, stdout } = await drive([{ kind: 'writes', pr: 5, service: 'shop', bodies: ['x'] }], { ...api(), apiUrl: 'http://127.0.0.1:1' })
    expect(results).toEqual([[null]])
    expect(stdout).toContain('::warning::Could not write the preview comment on #5')
  })

  test('pull request states: closed, open, and unknown when GitHub cannot say (with the permission to give)', async () => {
    github.pulls.set(1, 'closed')
    github.pulls.set(2, 'open')
    const { results, stdout } = await drive([{ kind: 'states', numbers: [1, 2, 3] }])
    expect(results).toEqual([[[1, 'closed'], [2, 'open'], [3, 'unknown']]])
    expect(stdout).toContain('read the state of pull request #3 (its preview is kept)')
    expect(stdout).toContain('permissions: pull-requests: read')
  })
})
