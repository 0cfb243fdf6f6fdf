import type { KamalConfig } from '../config/model'
import { combine, line, pipe } from './base'

/** Kamal's deploy lock: a directory on the primary host, created atomically with mkdir. */
export class LockCommands {
  constructor(readonly config: KamalConfig) {}

  get directory(): string {
    return `.kamal/${['lock', this.config.service, this.config.destination].filter(Boolean).join('-')}`
  }

  get detailsFile(): string {
    return `${this.directory}/details`
  }

  acquire(details: string): string {
    return this.acquireEncoded(mimeBase64(details))
  }

  /** `acquire` with the details already in Base64 (or a placeholder for them). */
  acquireEncoded(encoded: string): string {
    return combine([line('mkdir', this.directory), `echo "${encoded}" > ${this.detailsFile}`])
  }

  release(): string {
    return combine([line('rm', this.detailsFile), line('rm -r', this.directory)])
  }

  status(): string {
    return combine([`stat ${this.directory} > /dev/null`, pipe(`cat ${this.detailsFile}`, 'base64 -d')])
  }
}

/** The text Kamal writes into the lock (spec §3.2). */
export function lockDetails({ lockedBy, at, version, message }: { lockedBy: string; at: Date; version: string; message: string }): string {
  return `Locked by: ${lockedBy} at ${isoSeconds(at)}\nVersion: ${version}\nMessage: ${message}`
}

/** Ruby's Base64.encode64: lines of 60 characters, each ending in a newline. */
export function mimeBase64(text: string): string {
  const encoded = Buffer.from(text, 'utf8').toString('base64')
  return (encoded.match(/.{1,60}/g) ?? []).map((chunk) => `${chunk}\n`).join('')
}

/** Time#iso8601 in UTC: 2024-01-01T12:00:00Z */
export function isoSeconds(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
