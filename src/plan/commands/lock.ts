/** `kamal lock acquire -m MSG`: the lock stays held after the run (Kamal::Cli::Lock#acquire). Pure. */
import type { PlanParts } from '../deploy-plan'
import type { Stage } from '../steps'
import { connected } from './common'

export function lockAcquireStages(parts: PlanParts): Stage[] {
  return [...connected(parts), ...parts.lock(parts.request.options?.message ?? '')]
}
