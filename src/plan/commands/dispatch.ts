/** Which builder of this folder makes the stages of a command; undefined for the commands deploy-plan builds itself. */
import type { PlanParts } from '../deploy-plan'
import type { Stage } from '../steps'
import { accessoryDetailsStages, accessoryExecStages, accessoryLogsStages } from './accessory'
import { appBootStages, appContainersStages, appDetailsStages, appExecStages, appLogsStages, appRemoveStages, appStartStages, appStopStages, appVersionStages } from './app'
import { buildPushStages } from './build'
import { lockAcquireStages } from './lock'
import { proxyBootStages, proxyRebootStages } from './proxy'
import { removeStages } from './remove'
import { previewRemoveStages } from '../../preview/remove-plan'
import { auditStages, serverExecStages } from './server'

const BUILDERS: Record<string, (parts: PlanParts) => Stage[]> = {
  'build push': buildPushStages,
  'app exec': appExecStages,
  'app boot': appBootStages,
  'app start': appStartStages,
  'app stop': appStopStages,
  'app remove': appRemoveStages,
  'app logs': appLogsStages,
  'app details': appDetailsStages,
  'app containers': appContainersStages,
  'app version': appVersionStages,
  'proxy boot': proxyBootStages,
  'proxy reboot': proxyRebootStages,
  remove: removeStages,
  'remove preview': previewRemoveStages,
  'server exec': serverExecStages,
  audit: auditStages,
  'lock acquire': lockAcquireStages,
  'accessory logs': accessoryLogsStages,
  'accessory details': accessoryDetailsStages,
  'accessory exec': accessoryExecStages,
}

export function commandStages(parts: PlanParts): Stage[] | undefined {
  const { command, subcommand } = parts.request
  const builder = BUILDERS[[command, subcommand].filter(Boolean).join(' ')]
  return builder?.(parts)
}
