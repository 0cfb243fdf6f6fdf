import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { gitUser } from '../src/prepare'

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
const asked = (cwd: string, key: string) => {
  try {
    return git(cwd, 'config', key)
  } catch {
    return undefined
  }
}

describe('gitUser: user.name and user.email from one git process', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'git-user-'))
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))
  const repo = (name: string) => {
    const dir = path.join(scratch, name)
    fs.mkdirSync(dir)
    git(dir, 'init', '-q')
    return dir
  }

  test('answers what `git config <key>` answers, the last value winning', () => {
    const dir = repo('several')
    git(dir, 'config', '--add', 'user.name', 'First Name')
    git(dir, 'config', '--add', 'user.name', 'Deployer With Spaces')
    git(dir, 'config', 'user.email', 'deployer@example.com')
    expect(gitUser(dir)).toEqual({ name: 'Deployer With Spaces', email: 'deployer@example.com' })
    expect(gitUser(dir)).toEqual({ name: asked(dir, 'user.name'), email: asked(dir, 'user.email') })
  })

  test('a key set in neither the repository nor the global config stays unset', () => {
    const dir = repo('email-only')
    git(dir, 'config', 'user.email', 'only@example.com')
    expect(gitUser(dir).email).toBe('only@example.com')
    expect(gitUser(dir).name).toBe(asked(dir, 'user.name'))
  })

  test('outside a repository: whatever the global config holds, else nothing', () => {
    const outside = fs.mkdtempSync(path.join(scratch, 'outside-'))
    expect(gitUser(outside)).toEqual(Object.fromEntries(Object.entries({ name: asked(outside, 'user.name'), email: asked(outside, 'user.email') }).filter(([, value]) => value !== undefined)))
  })
})
