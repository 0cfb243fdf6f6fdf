import { spawnSync } from 'node:child_process'

/** Whether a `ruby` runs here (GitHub's Ubuntu runners ship one; CI installs it). */
export function rubyAvailable(): boolean {
  return spawnSync('ruby', ['-e', 'exit 0'], { stdio: 'ignore' }).status === 0
}
