import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { parseSize, TarExtractor } from '../../src/transfer/tar-extract'

const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex')

function makeTree(): { dir: string; files: Record<string, Buffer> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tar-src-'))
  const longName = `${'deep/'.repeat(30)}file-with-a-name-longer-than-one-hundred-characters.txt`
  const files: Record<string, Buffer> = {
    'manifest.json': Buffer.from('[{"Config":"c.json"}]'),
    'abc/layer.tar': Buffer.from(Array.from({ length: 70_001 }, (_, i) => i % 251)),
    'empty.txt': Buffer.alloc(0),
    [longName]: Buffer.from('long name content'),
  }
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.join(dir, path.dirname(name)), { recursive: true })
    fs.writeFileSync(path.join(dir, name), content)
  }
  return { dir, files }
}

/** Feeds `archive` to a fresh extractor in pieces of `chunkSize` bytes, so headers and bodies straddle chunks. */
async function extract(archive: Buffer, chunkSize: number): Promise<TarExtractor> {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'tar-out-'))
  const extractor = new TarExtractor(target)
  const pieces = Array.from({ length: Math.ceil(archive.length / chunkSize) }, (_, i) => archive.subarray(i * chunkSize, (i + 1) * chunkSize))
  await pipeline(Readable.from(pieces), extractor)
  return extractor
}

describe.each(['gnu', 'pax', 'ustar'])('TarExtractor on a %s archive made by tar', (format) => {
  test.each([7, 512, 65_536])('every regular file, byte for byte with its sha256, in %i-byte chunks', async (chunkSize) => {
    const { dir, files } = makeTree()
    const names = Object.keys(files).filter((name) => format !== 'ustar' || name.length <= 255)
    const archive = execFileSync('tar', ['-c', `--format=${format}`, '-C', dir, ...names], { maxBuffer: 1 << 26 })
    const extractor = await extract(archive, chunkSize)
    expect([...extractor.files.keys()].sort()).toEqual([...names].sort())
    for (const name of names) {
      const file = extractor.files.get(name)
      expect(file?.size).toBe(files[name].length)
      expect(fs.readFileSync(file?.path ?? '')).toEqual(files[name])
      expect(file?.sha256).toBe(sha256(files[name]))
    }
  })
})

test('an archive cut in the middle of a file is an error, not a short file', async () => {
  const { dir } = makeTree()
  const archive = execFileSync('tar', ['-c', '-C', dir, 'abc/layer.tar'])
  await expect(extract(archive.subarray(0, 30_000), 4096)).rejects.toThrow('ended in the middle of an entry')
})

test('files are written under generated names, never at the path the archive gives', async () => {
  const { dir } = makeTree()
  const archive = execFileSync('tar', ['-c', '-C', dir, 'manifest.json'])
  archive.write('../../escape.json\0'.padEnd(100, '\0'), 0, 'latin1')
  const extractor = await extract(archive, 512)
  const file = extractor.files.get('../../escape.json')
  expect(path.basename(file?.path ?? '')).toBe('entry-0')
})

test('sizes: octal, and base-256 for 8 GiB and more', () => {
  expect(parseSize(Buffer.from('00000001750\0'))).toBe(1000)
  const big = Buffer.alloc(12)
  big[0] = 0x80
  big.writeUIntBE(9 * 1024 ** 3, 6, 6)
  expect(parseSize(big)).toBe(9 * 1024 ** 3)
})
