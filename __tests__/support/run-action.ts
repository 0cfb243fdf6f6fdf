import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

export const DIST = path.resolve(__dirname, '../../dist/index.js')

export interface ActionRun {
  status: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  sideEffects: Array<{ kind: string; command?: string; args?: string[]; host?: string; port?: number; path?: string }>
}

/** Runs dist/index.js the way the runner does: INPUT_* variables and the GITHUB_* files. */
export function runAction(workspace: string, inputs: Record<string, string>, env: Record<string, string> = {}): ActionRun {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'action-run-'))
  const files = { GITHUB_OUTPUT: 'output', GITHUB_STEP_SUMMARY: 'summary', GITHUB_STATE: 'state', SIDE_EFFECTS_LOG: 'side-effects' }
  const fileEnv = Object.fromEntries(Object.entries(files).map(([name, file]) => [name, path.join(scratch, file)]))
  for (const file of Object.values(fileEnv)) fs.writeFileSync(file, '')
  const inputEnv = Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]))
  const result = spawnSync(process.execPath, [DIST], {
    cwd: workspace,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      GITHUB_WORKSPACE: workspace,
      RUNNER_TEMP: scratch,
      NODE_OPTIONS: `--require ${path.resolve(__dirname, 'record-side-effects.js')}`,
      ...fileEnv,
      ...inputEnv,
      ...env,
    },
  })
  const outputs = parseOutputFile(fs.readFileSync(fileEnv.GITHUB_OUTPUT, 'utf8'))
  const sideEffects = fs
    .readFileSync(fileEnv.SIDE_EFFECTS_LOG, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((entry) => JSON.parse(entry))
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, outputs, summary: fs.readFileSync(fileEnv.GITHUB_STEP_SUMMARY, 'utf8'), sideEffects }
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
