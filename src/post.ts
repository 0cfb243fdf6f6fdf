import * as core from '@actions/core'

/**
 * The post step (runs even when the job is cancelled). Nothing is held yet by
 * a plan-only run; deploy runs record what to release in the step state.
 */
export async function post(): Promise<void> {
  const held = core.getState('lock-held')
  if (held) core.info(`Deploy lock state from the main step: ${held}`)
}
