/** Small shared pieces of the command builders in this folder. */
import type { Role } from '../../config/model'
import { InputError } from '../../errors'
import type { PlanParts } from '../deploy-plan'
import type { Stage, Step } from '../steps'
import type { Targets } from '../targets'

export const exec = (command: string, extra: Partial<Extract<Step, { kind: 'exec' }>> = {}): Step => ({ kind: 'exec', command, changes: true, ...extra })
export const readOnly = (command: string, extra: Partial<Extract<Step, { kind: 'exec' }>> = {}): Step => ({ kind: 'exec', command, changes: false, ...extra })

/** Kamal's puts_by_host heading: "App Host: 10.0.0.1", "Accessory db Host: …". */
export const hostHeading = (host: string, type = 'App'): string => `${type} Host: ${host}`

/** The selected roles on a host, in Kamal's order (KAMAL.roles_on). */
export const rolesOn = (targets: Targets, host: string): Role[] => targets.roles.filter((role) => role.hosts.includes(host))

/** pre-connect hook and the SSH connections: what every command toward the hosts starts with. */
export const connected = (parts: PlanParts): Stage[] => [...parts.hook('pre-connect'), parts.connect()]

/** Kamal's modify(lock: true): the stages between taking and releasing the deploy lock. */
export const underLock = (parts: PlanParts, stages: Stage[]): Stage[] => [...connected(parts), ...parts.lock(), ...stages, parts.unlock()]

/** Kamal's `confirming`: without -y (the `confirm` input) a workflow cannot answer the question, so the run is refused before anything runs. */
export function requireConfirmation(parts: PlanParts, what: string, question: string): void {
  if (parts.request.confirm) return
  throw new InputError('confirm', `${what} asks "${question}" and a workflow cannot answer. Set confirm: true in the step's with: (kamal's -y), or add -y to the command. Nothing was changed.`)
}
