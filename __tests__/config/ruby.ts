import { spawnSync } from 'node:child_process'
import { mkdtempSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Whether a `ruby` runs here (GitHub's Ubuntu runners ship one; CI installs it). */
export function rubyAvailable(): boolean {
  return spawnSync('ruby', ['-e', 'exit 0'], { stdio: 'ignore' }).status === 0
}

let withoutRuby: string | undefined

/** A PATH with a shell and the usual tools, but no ruby (one directory of links, made once per test file). */
export function pathWithoutRuby(): string {
  if (withoutRuby) return withoutRuby
  withoutRuby = mkdtempSync(join(tmpdir(), 'no-ruby-bin-'))
  for (const tool of ['sh', 'echo', 'printf', 'cat', 'touch', 'pwd', 'env']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim()
    if (found.startsWith('/')) symlinkSync(found, join(withoutRuby, tool))
  }
  return withoutRuby
}
