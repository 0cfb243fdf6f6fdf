import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { constants, createGzip, deflateRawSync } from 'node:zlib'
import type { SavedLayer } from './docker-save'

/** A blob a registry serves: the file on disk and its digest. */
export interface Blob {
  digest: string
  size: number
  path: string
  mediaType: string
}

export const GZIP_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip'
const SAMPLE_BYTES = 1 << 20
/** a layer whose first MiB gzips to more than this fraction is stored, not deflated (random data, media, already-compressed files) */
const INCOMPRESSIBLE = 0.9
const CACHE_MAX_AGE_MS = 24 * 3600 * 1000

interface CacheRecord {
  digest: string
  size: number
}

/**
 * Turns saved layers into gzip blobs. The gzip is deterministic (no name, mtime 0, a level chosen
 * from the content alone), so the same layer gets the same digest on every deploy and a host that
 * pulled it before skips it. Compressed blobs are kept in `cacheDirectory` by diffID, so an unchanged
 * layer is not compressed again by the next deploy on this runner. Layers compress in parallel.
 */
export async function layerBlobs(layers: SavedLayer[], cacheDirectory: string, parallelism = 2): Promise<Blob[]> {
  fs.mkdirSync(cacheDirectory, { recursive: true })
  const blobs: Blob[] = new Array(layers.length)
  // An image may hold the same layer twice: compress it once.
  const byDiffId = new Map<string, Promise<Blob>>()
  let next = 0
  const lane = async () => {
    while (next < layers.length) {
      const layer = layers[next]
      const index = next++
      if (!byDiffId.has(layer.diffId)) byDiffId.set(layer.diffId, layerBlob(layer, cacheDirectory))
      blobs[index] = await (byDiffId.get(layer.diffId) as Promise<Blob>)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallelism, layers.length)) }, lane))
  evictStale(cacheDirectory, new Set(blobs.map((blob) => blob.path)))
  return blobs
}

async function layerBlob(layer: SavedLayer, cacheDirectory: string): Promise<Blob> {
  const { file } = layer
  if (await startsWithGzipMagic(file.path)) {
    // Docker 25+ with the containerd store saves layers as they were pulled: already compressed.
    return { digest: `sha256:${file.sha256}`, size: file.size, path: file.path, mediaType: GZIP_LAYER }
  }
  const key = layer.diffId.replace(/^sha256:/, '')
  const blobPath = path.join(cacheDirectory, `${key}.tar.gz`)
  const recordPath = path.join(cacheDirectory, `${key}.json`)
  const cached = readRecord(recordPath, blobPath)
  if (cached) {
    const now = new Date()
    fs.utimesSync(blobPath, now, now)
    return { ...cached, path: blobPath, mediaType: GZIP_LAYER }
  }
  const level = (await sampleRatio(file.path)) > INCOMPRESSIBLE ? constants.Z_NO_COMPRESSION : 6
  const partial = `${blobPath}.${process.pid}.partial`
  const hash = createHash('sha256')
  let size = 0
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk)
      size += chunk.length
      callback(null, chunk)
    },
  })
  await pipeline(fs.createReadStream(file.path, { highWaterMark: 1 << 20 }), createGzip({ level, memLevel: 8, windowBits: 15 }), measure, fs.createWriteStream(partial))
  fs.renameSync(partial, blobPath)
  const record: CacheRecord = { digest: `sha256:${hash.digest('hex')}`, size }
  fs.writeFileSync(recordPath, JSON.stringify(record))
  return { ...record, path: blobPath, mediaType: GZIP_LAYER }
}

function readRecord(recordPath: string, blobPath: string): CacheRecord | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(recordPath, 'utf8')) as CacheRecord
    return fs.statSync(blobPath).size === record.size && /^sha256:[0-9a-f]{64}$/.test(record.digest) ? record : undefined
  } catch {
    return undefined
  }
}

async function startsWithGzipMagic(file: string): Promise<boolean> {
  const handle = await fs.promises.open(file, 'r')
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0)
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b
  } finally {
    await handle.close()
  }
}

/** Compressed size / size of the first MiB. */
async function sampleRatio(file: string): Promise<number> {
  const handle = await fs.promises.open(file, 'r')
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(SAMPLE_BYTES), 0, SAMPLE_BYTES, 0)
    if (bytesRead === 0) return 0
    return deflateRawSync(buffer.subarray(0, bytesRead), { level: 1 }).length / bytesRead
  } finally {
    await handle.close()
  }
}

/** Removes cached blobs no deploy used for a day (the ones just used are kept whatever their age). */
function evictStale(cacheDirectory: string, inUse: Set<string>): void {
  const cutoff = Date.now() - CACHE_MAX_AGE_MS
  for (const name of fs.readdirSync(cacheDirectory)) {
    const file = path.join(cacheDirectory, name)
    if (inUse.has(file) || !name.endsWith('.tar.gz')) continue
    try {
      if (fs.statSync(file).mtimeMs < cutoff) {
        fs.rmSync(file, { force: true })
        fs.rmSync(file.replace(/\.tar\.gz$/, '.json'), { force: true })
      }
    } catch {
      // another deploy removed it first
    }
  }
}
