import * as fs from 'node:fs'
import * as path from 'node:path'
import { errorAnnotations, runAction } from './support/run-action'

// Each folder under corpus/ is a small Kamal project with one mistake in its
// config or secrets, and case.json names the annotation the action must give.
const CORPUS = path.join(__dirname, 'corpus')
const cases = fs
  .readdirSync(CORPUS)
  .filter((name) => fs.existsSync(path.join(CORPUS, name, 'case.json')))
  .sort()

interface Case {
  inputs: Record<string, string>
  env: Record<string, string>
  expect: { file: string; line: number; col: number; message: string }
}

test('the corpus has at least 25 malformed projects', () => {
  expect(cases.length).toBeGreaterThanOrEqual(25)
})

describe.each(cases)('%s', (name) => {
  const spec: Case = JSON.parse(fs.readFileSync(path.join(CORPUS, name, 'case.json'), 'utf8'))
  const run = runAction(path.join(CORPUS, name), { command: 'deploy', version: 'v1', ...spec.inputs }, spec.env)

  test('exits non-zero', () => {
    expect(run.status).toBe(1)
  })

  test('gives exactly one error annotation, at the offending file, line and column', () => {
    const annotations = errorAnnotations(run.stdout)
    expect(annotations).toHaveLength(1)
    const [annotation] = annotations
    expect({ file: annotation.file, line: annotation.line, col: annotation.col }).toEqual({ file: spec.expect.file, line: spec.expect.line, col: spec.expect.col })
    expect(annotation.message).toContain(spec.expect.message)
  })

  test('the message says how to fix it', () => {
    const [annotation] = errorAnnotations(run.stdout)
    const advice = /\b(add|set|use|remove|rename|create|fix|move|give|list|write|quote|lower|terminate|tag|compute|install|pass|you can)\b/i
    expect(annotation.message).toMatch(advice)
  })

  test('starts nothing toward a host: no connection, no docker or ssh process', () => {
    expect(run.sideEffects.filter((effect) => effect.kind === 'connect')).toEqual([])
    const remote = run.sideEffects.filter((effect) => effect.kind === 'process' && /(^|\/)(docker|ssh|scp|sftp)$/.test(effect.command ?? ''))
    expect(remote).toEqual([])
  })
})
