import type { KamalConfig } from '../config/model'
import { escapeShellValue } from '../shell'
import { combine, makeDirectory } from './base'
import { isoSeconds } from './lock'

/** Appends Kamal-format lines to `.kamal/<service>[-<dest>]-audit.log` on a host. */
export class Auditor {
  constructor(
    readonly config: KamalConfig,
    readonly performer: string,
    readonly clock: () => Date = () => new Date(),
  ) {}

  get logFile(): string {
    return `.kamal/${[this.config.service, this.config.destination, 'audit.log'].filter(Boolean).join('-')}`
  }

  record(message: string, details: { role?: string } = {}): string {
    const tags = [isoSeconds(this.clock()), this.performer, this.config.destination, details.role].filter(Boolean)
    const auditLine = `${tags.map((tag) => `[${tag}]`).join(' ')} ${message}`
    return combine([makeDirectory('.kamal'), `echo ${escapeShellValue(auditLine)} >> ${this.logFile}`])
  }
}
