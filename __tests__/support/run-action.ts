import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'

export const DIST = path.resolve(__dirname, '../../dist/index.js')
const SOURCE = path.resolve(__dirname, '../../src/index.ts')

/**
 * `dist`: the bundle, as the runner runs it; `source`: src/ through tsx, so a change in src is
 * tested before it is bundled; `{ bundle }`: another build of the bundle (a benchmark's baseline).
 */
export type Entry = 'dist' | 'source' | { bundle: string }
// tsx by absolute path: the action runs with the user's project as its working directory.
const TSX = pathToFileURL(require.resolve('tsx')).href
const entryArgs = (entry: Entry) => (entry === 'dist' ? [DIST] : entry === 'source' ? ['--import', TSX, SOURCE] : [path.resolve(entry.bundle)])

export interface ActionRun {
  status: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  sideEffects: Array<{ kind: string; command?: string; args?: string[]; host?: string; port?: number; path?: string }>
  /** the GITHUB_STATE file the step wrote (for running the post step) */
  stateFile: string
}

interface Prepared {
  env: NodeJS.ProcessEnv
  files: Record<string, string>
}

function prepare(workspace: string, inputs: Record<string, string>, env: Record<string, string>, stateFrom?: string): Prepared {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'action-run-'))
  const names = { GITHUB_OUTPUT: 'output', GITHUB_STEP_SUMMARY: 'summary', GITHUB_STATE: 'state', SIDE_EFFECTS_LOG: 'side-effects' }
  const files = Object.fromEntries(Object.entries(names).map(([name, file]) => [name, path.join(scratch, file)]))
  for (const file of Object.values(files)) fs.writeFileSync(file, '')
  // The runner hands a main step's saved state to its post step as STATE_<name> variables.
  const stateEnv = stateFrom ? Object.fromEntries(Object.entries(parseOutputFile(fs.readFileSync(stateFrom, 'utf8'))).map(([name, value]) => [`STATE_${name}`, value])) : {}
  const inputEnv = Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]))
  return {
    files,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(process.env.DOCKER_CONFIG ? { DOCKER_CONFIG: process.env.DOCKER_CONFIG } : {}),
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: scratch,
      NODE_OPTIONS: `--require ${path.resolve(__dirname, 'record-side-effects.js')}`,
      ...files,
      ...inputEnv,
      ...stateEnv,
      ...env,
    },
  }
}

function collect(prepared: Prepared, status: number | null, stdout: string, stderr: string): ActionRun {
  const { files } = prepared
  const sideEffects = fs
    .readFileSync(files.SIDE_EFFECTS_LOG, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((entry) => JSON.parse(entry))
  return {
    status,
    stdout,
    stderr,
    outputs: parseOutputFile(fs.readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    summary: fs.readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    sideEffects,
    stateFile: files.GITHUB_STATE,
  }
}

/** Runs dist/index.js the way the runner does: INPUT_* variables and the GITHUB_* files. */
export function runAction(workspace: string, inputs: Record<string, string>, env: Record<string, string> = {}, entry: Entry = 'dist'): ActionRun {
  const prepared = prepare(workspace, inputs, env)
  const result = spawnSync(process.execPath, entryArgs(entry), { cwd: workspace, encoding: 'utf8', env: prepared.env })
  return collect(prepared, result.status, result.stdout, result.stderr)
}

export interface RunningAction {
  pid: number
  finished: Promise<ActionRun>
  /** resolves when stdout has shown a line matching the pattern */
  waitFor: (pattern: RegExp) => Promise<void>
}

/** The same, without blocking the test's event loop (for traffic during a deploy). `stateFrom` runs the post step with a saved state. */
export function startAction(workspace: string, inputs: Record<string, string>, env: Record<string, string> = {}, stateFrom?: string, entry: Entry = 'dist'): RunningAction {
  const prepared = prepare(workspace, inputs, env, stateFrom)
  const child = spawn(process.execPath, entryArgs(entry), { cwd: workspace, env: prepared.env })
  let stdout = ''
  let stderr = ''
  const watchers: Array<{ pattern: RegExp; resolve: () => void }> = []
  child.stdout.on('data', (chunk) => {
    stdout += chunk
    for (const watcher of watchers.filter((item) => item.pattern.test(stdout))) {
      watcher.resolve()
      watchers.splice(watchers.indexOf(watcher), 1)
    }
  })
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const finished = new Promise<ActionRun>((resolve) => child.on('close', (code) => resolve(collect(prepared, code, stdout, stderr))))
  return {
    pid: child.pid ?? 0,
    finished,
    waitFor: (pattern) => (pattern.test(stdout) ? Promise.resolve() : new Promise((resolve) => watchers.push({ pattern, resolve }))),
  }
}

/** GITHUB_OUTPUT's `name<<delimiter` blocks. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i])
    if (!match) continue
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== match[2]; i++) value.push(lines[i])
    outputs[match[1]] = value.join('\n')
  }
  return outputs
}

export function errorAnnotations(stdout: string): Array<{ file?: string; line?: number; col?: number; message: string }> {
  return stdout
    .split('\n')
    .filter((row) => row.startsWith('::error'))
    .map((row) => {
      const match = /^::error(?: ([^:]*))?::(.*)$/.exec(row)
      const properties = Object.fromEntries((match?.[1] ?? '').split(',').filter(Boolean).map((pair) => pair.split('=') as [string, string]))
      return {
        file: properties.file,
        line: properties.line ? Number(properties.line) : undefined,
        col: properties.col ? Number(properties.col) : undefined,
        message: (match?.[2] ?? row).replace(/%0A/g, '\n').replace(/%25/g, '%'),
      }
    })
}
