import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'

/**
 * A directory of stand-in vault CLIs: real executables (sh scripts) that record
 * each argv they receive and print what the test tells them to.
 */
export class FakeCliDir {
  readonly bin = mkdtempSync(path.join(tmpdir(), 'fake-cli-'))
  private readonly log = path.join(this.bin, 'calls.log')

  /** `body` is sh code run with the CLI's arguments as "$@". */
  add(name: string, body: string): this {
    const file = path.join(this.bin, name)
    const record = `printf '%s' "${name}" >> '${this.log}'; for a in "$@"; do printf ' [%s]' "$a" >> '${this.log}'; done; echo >> '${this.log}'`
    writeFileSync(file, `#!/bin/sh\n${record}\n${body}\n`)
    chmodSync(file, 0o755)
    return this
  }

  /** Each call as `cli [arg1] [arg2] …`. */
  calls(): string[] {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8').split('\n').filter((line) => line !== '') : []
  }

  /** PATH with only these CLIs and the basic system tools the scripts need. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { PATH: `${this.bin}:/usr/bin:/bin`, ...extra }
  }
}
