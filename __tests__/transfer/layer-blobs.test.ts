import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import type { SavedLayer } from '../../src/transfer/docker-save'
import { sha256Digest } from '../../src/transfer/image-manifest'
import { layerBlobs } from '../../src/transfer/layer-blobs'

const scratch = () => fs.mkdtempSync(path.join(os.tmpdir(), 'layer-blobs-'))

function layer(content: Buffer): SavedLayer {
  const file = path.join(scratch(), 'layer.tar')
  fs.writeFileSync(file, content)
  const digest = sha256Digest(content)
  return { diffId: digest, file: { name: 'x/layer.tar', path: file, size: content.length, sha256: digest.slice(7) } }
}

const text = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `line ${i} of a very ordinary text file\n`).join(''))

test('the same layer gets the same digest on every deploy, with no shared cache', async () => {
  const [first] = await layerBlobs([layer(text)], scratch())
  const [second] = await layerBlobs([layer(text)], scratch())
  expect(second.digest).toBe(first.digest)
  expect(first.digest).toBe(sha256Digest(fs.readFileSync(first.path)))
  expect(first.size).toBe(fs.statSync(first.path).size)
  expect(gunzipSync(fs.readFileSync(first.path)).equals(text)).toBe(true)
  expect(first.size).toBeLessThan(text.length / 4)
})

test('incompressible data is stored (gzip level 0): no CPU spent, still a valid gzip', async () => {
  const random = randomBytes(3 << 20)
  const [blob] = await layerBlobs([layer(random)], scratch())
  expect(gunzipSync(fs.readFileSync(blob.path)).equals(random)).toBe(true)
  expect(blob.size).toBeGreaterThan(random.length)
  expect(blob.size).toBeLessThan(random.length * 1.001)
})

test('a layer already compressed is served as it is', async () => {
  const gz = gzipSync(text)
  const [blob] = await layerBlobs([layer(gz)], scratch())
  expect(blob.digest).toBe(sha256Digest(gz))
  expect(blob.size).toBe(gz.length)
})

test('the cache is keyed by diffID: a known layer is not compressed again', async () => {
  const cache = scratch()
  const original = layer(text)
  const [first] = await layerBlobs([original], cache)
  const writtenAt = fs.statSync(first.path).ctimeMs
  // same diffID, different bytes on disk: only a cache hit returns the first blob
  const impostor = layer(Buffer.from('not the same bytes'))
  const [second] = await layerBlobs([{ ...impostor, diffId: original.diffId }], cache)
  expect(second).toEqual(first)
  expect(fs.statSync(second.path).ctimeMs).toBeGreaterThanOrEqual(writtenAt)
  expect(gunzipSync(fs.readFileSync(second.path)).equals(text)).toBe(true)
})

test('a damaged cache entry (wrong size) is compressed again', async () => {
  const cache = scratch()
  const [first] = await layerBlobs([layer(text)], cache)
  fs.truncateSync(first.path, 10)
  const [again] = await layerBlobs([layer(text)], cache)
  expect(again.digest).toBe(first.digest)
  expect(gunzipSync(fs.readFileSync(again.path)).equals(text)).toBe(true)
})

test('layers keep their order, and a layer present twice is compressed once', async () => {
  const a = layer(text)
  const b = layer(Buffer.from('second layer'))
  const blobs = await layerBlobs([a, b, a], scratch(), 3)
  expect(blobs.map((blob) => gunzipSync(fs.readFileSync(blob.path)).length)).toEqual([text.length, 12, text.length])
  expect(blobs[2]).toEqual(blobs[0])
})
