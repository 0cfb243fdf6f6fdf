import * as core from '@actions/core'
import * as path from 'node:path'
import { ConfigError, InputError } from './errors'

/**
 * Turns a failure into exactly one error annotation — at the user's file:line
 * when we know it — and a non-zero exit code. (core.setFailed would add a
 * second, location-less annotation, so the exit code is set directly.)
 */
export function reportError(error: unknown, { workspace, projectDir }: { workspace: string; projectDir: string }): void {
  if (error instanceof ConfigError && error.location) {
    const file = path.relative(workspace, path.resolve(projectDir, error.location.file)) || error.location.file
    core.error(error.message, { file, startLine: error.location.line, startColumn: error.location.column })
  } else if (error instanceof ConfigError || error instanceof InputError) {
    core.error(error.message)
  } else {
    const message = error instanceof Error ? error.message : String(error)
    core.error(message)
    if (error instanceof Error && error.stack) core.debug(error.stack)
  }
  process.exitCode = 1
}
