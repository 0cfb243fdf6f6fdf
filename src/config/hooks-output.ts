import type { KamalConfig } from './model'
import { isHash } from './load'

/** `hooks_output`: `quiet` hides a hook's run entirely, `verbose` shows its output too. */
export type HookOutputLevel = 'quiet' | 'verbose'

/**
 * Kamal's `hooks_output_for(hook)`: one level for every hook, or a level per
 * hook name; undefined means Kamal's default (the Running/Finished lines, not
 * the output). The rules have already refused any other value at its line.
 */
export function hooksOutputFor(config: Pick<KamalConfig, 'raw'>, hook: string): HookOutputLevel | undefined {
  const setting = config.raw.hooks_output
  const level = isHash(setting) ? setting[hook] : setting
  const name = typeof level === 'string' ? level.replace(/^:/, '') : undefined
  return name === 'quiet' || name === 'verbose' ? name : undefined
}
