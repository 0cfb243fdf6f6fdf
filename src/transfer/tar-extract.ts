import { createHash, type Hash } from 'node:crypto'
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Writable } from 'node:stream'

/** One regular file of the archive, stored on disk under a generated name (never the archive's own path). */
export interface ExtractedFile {
  /** the file's path inside the archive */
  name: string
  /** where it was written */
  path: string
  size: number
  /** sha256 of the content, hex */
  sha256: string
}

const BLOCK = 512

interface OpenEntry {
  file: ExtractedFile
  out: fs.WriteStream
  hash: Hash
}

/**
 * A Writable that takes a tar stream (ustar, with GNU long names and pax paths) and writes each
 * regular file to `directory`, hashing it on the way. Memory use is one chunk plus one header:
 * file bodies go straight to disk, honouring the disk's backpressure.
 */
export class TarExtractor extends Writable {
  readonly files = new Map<string, ExtractedFile>()
  private header = Buffer.alloc(0)
  private bodyLeft = 0
  private paddingLeft = 0
  private entry?: OpenEntry
  private metadata?: { kind: 'long-name' | 'pax'; chunks: Buffer[] }
  private nextName?: string
  private finished = false
  private count = 0
  private readonly closing: Array<Promise<unknown>> = []

  constructor(private readonly directory: string) {
    super()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.consume(chunk).then(() => callback(), callback)
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.bodyLeft > 0 || this.header.length > 0) return callback(new Error('the tar stream ended in the middle of an entry'))
    Promise.all(this.closing).then(() => callback(), callback)
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.entry?.out.destroy()
    callback(error)
  }

  private async consume(chunk: Buffer): Promise<void> {
    let offset = 0
    while (offset < chunk.length && !this.finished) {
      if (this.bodyLeft > 0) {
        const piece = chunk.subarray(offset, offset + Math.min(this.bodyLeft, chunk.length - offset))
        offset += piece.length
        this.bodyLeft -= piece.length
        await this.takeBody(piece)
        if (this.bodyLeft === 0) this.endEntry()
      } else if (this.paddingLeft > 0) {
        const skip = Math.min(this.paddingLeft, chunk.length - offset)
        offset += skip
        this.paddingLeft -= skip
      } else {
        const need = BLOCK - this.header.length
        this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + need)])
        offset += Math.min(need, chunk.length - offset)
        if (this.header.length === BLOCK) {
          const block = this.header
          this.header = Buffer.alloc(0)
          this.startEntry(block)
        }
      }
    }
  }

  private async takeBody(piece: Buffer): Promise<void> {
    if (this.metadata) return void this.metadata.chunks.push(piece)
    if (!this.entry) return
    this.entry.hash.update(piece)
    if (!this.entry.out.write(piece)) await once(this.entry.out, 'drain')
  }

  private startEntry(block: Buffer): void {
    if (block.every((byte) => byte === 0)) {
      this.finished = true
      return
    }
    const size = parseSize(block.subarray(124, 136))
    const type = String.fromCharCode(block[156] || 0x30)
    const name = this.nextName ?? headerName(block)
    this.bodyLeft = size
    this.paddingLeft = (BLOCK - (size % BLOCK)) % BLOCK
    if (type === 'L' || type === 'x') {
      this.metadata = { kind: type === 'L' ? 'long-name' : 'pax', chunks: [] }
    } else {
      this.nextName = undefined
      if (type === '0' || type === '7') {
        const file: ExtractedFile = { name, path: path.join(this.directory, `entry-${this.count++}`), size, sha256: '' }
        const out = fs.createWriteStream(file.path)
        const closed = once(out, 'close')
        closed.catch(() => undefined) // awaited in _final; an extractor destroyed earlier never gets there
        this.closing.push(closed)
        this.entry = { file, out, hash: createHash('sha256') }
      }
    }
    if (size === 0) this.endEntry()
  }

  private endEntry(): void {
    if (this.metadata) {
      const text = Buffer.concat(this.metadata.chunks).toString('utf8')
      const override = this.metadata.kind === 'long-name' ? text.replace(/\0.*$/s, '') : paxPath(text)
      if (override) this.nextName = override
      this.metadata = undefined
    } else if (this.entry) {
      const { file, out, hash } = this.entry
      file.sha256 = hash.digest('hex')
      out.end()
      this.files.set(file.name.replace(/^\.\//, ''), file)
      this.entry = undefined
    }
  }
}

function headerName(block: Buffer): string {
  const text = (from: number, to: number) => block.subarray(from, to).toString('utf8').replace(/\0.*$/s, '')
  const name = text(0, 100)
  const prefix = block.subarray(257, 262).toString('latin1') === 'ustar' ? text(345, 500) : ''
  return prefix ? `${prefix}/${name}` : name
}

/** Octal size field, or GNU base-256 for files of 8 GiB and more. */
export function parseSize(field: Buffer): number {
  if (field[0] & 0x80) {
    let value = 0
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]
    return value
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/g, '').trim()
  return text ? parseInt(text, 8) : 0
}

/** The `path` record of a pax extended header ("<length> path=<value>\n" records). */
function paxPath(text: string): string | undefined {
  for (const record of text.split('\n')) {
    const match = /^\d+ path=(.*)$/s.exec(record)
    if (match) return match[1]
  }
  return undefined
}
