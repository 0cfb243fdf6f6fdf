import * as fs from 'node:fs'
import * as path from 'node:path'
import { parse } from 'yaml'

const ROOT = path.resolve(__dirname, '..')
const sources = () => {
  const files: string[] = []
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.name.endsWith('.ts')) files.push(fs.readFileSync(full, 'utf8'))
    }
  }
  walk(path.join(ROOT, 'src'))
  return files.join('\n')
}

describe('action.yml', () => {
  // The runner reads action.yml as strict YAML: a plain scalar with ": " in it makes the whole action fail to load.
  const metadata = parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8'), { strict: true, uniqueKeys: true }) as {
    inputs: Record<string, unknown>
    outputs: Record<string, unknown>
    runs: { using: string; main: string; post: string }
  }

  test('is valid YAML for a node24 action with a post step', () => {
    expect(metadata.runs).toEqual({ using: 'node24', main: 'dist/index.js', post: 'dist/index.js' })
  })

  test('declares every output the code sets and every input it reads', () => {
    const code = sources()
    const outputs = new Set([...code.matchAll(/core\.setOutput\('([a-z-]+)'/g)].map((match) => match[1]))
    const inputs = new Set([...code.matchAll(/\b(?:text|optional|read)\('([a-z-]+)'\)/g)].map((match) => match[1]))
    expect(outputs.size).toBeGreaterThan(5)
    expect(inputs.size).toBeGreaterThan(5)
    expect([...outputs].filter((name) => !(name in metadata.outputs))).toEqual([])
    expect([...inputs].filter((name) => !(name in metadata.inputs))).toEqual([])
  })
})
