import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { TarExtractor, type ExtractedFile } from './tar-extract'

/** An image as `docker save` wrote it: the config's exact bytes, and each layer in order. */
export interface SavedImage {
  config: Buffer
  layers: SavedLayer[]
}

export interface SavedLayer {
  /** sha256:… of the uncompressed layer tar, from the config's rootfs.diff_ids */
  diffId: string
  file: ExtractedFile
}

export class ImageExportError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ImageExportError'
  }
}

/**
 * Streams `docker save <image>` (the docker CLI, so DOCKER_HOST and contexts apply) into `directory`,
 * one file per archive entry, without holding the image in memory. Reads both the classic layout
 * (`<id>/layer.tar`) and the OCI layout of Docker 25+ (`blobs/sha256/…`) through `manifest.json`.
 */
export async function saveImage(image: string, directory: string, env: NodeJS.ProcessEnv = process.env): Promise<SavedImage> {
  fs.mkdirSync(directory, { recursive: true })
  const child = spawn('docker', ['save', image], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)))
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (error) => reject(new ImageExportError(`cannot run docker save: ${error.message}`)))
    child.once('close', (code) => resolve(code ?? 1))
  })
  const extractor = new TarExtractor(directory)
  const [exitCode, streamError] = await Promise.all([exited, pipeline(child.stdout, extractor).then(() => undefined, (error: Error) => error)])
  if (exitCode !== 0) throw new ImageExportError(`docker save ${image} failed with exit status ${exitCode}: ${stderr.trim()}`)
  if (streamError) throw new ImageExportError(`reading the output of docker save ${image} failed: ${streamError.message}`)
  return readSavedImage(extractor.files, image)
}

interface ManifestEntry {
  Config: string
  Layers: string[]
  RepoTags?: string[] | null
}

function readSavedImage(files: Map<string, ExtractedFile>, image: string): SavedImage {
  const read = (name: string) => {
    const file = files.get(name)
    if (!file) throw new ImageExportError(`docker save ${image}: ${name} is missing from the archive`)
    return file
  }
  const manifest = JSON.parse(fs.readFileSync(read('manifest.json').path, 'utf8')) as ManifestEntry[]
  if (!Array.isArray(manifest) || manifest.length !== 1) throw new ImageExportError(`docker save ${image}: expected one image in manifest.json, found ${Array.isArray(manifest) ? manifest.length : 'none'}`)
  const [entry] = manifest
  const config = fs.readFileSync(read(entry.Config).path)
  const diffIds = (JSON.parse(config.toString('utf8')) as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? []
  if (diffIds.length !== entry.Layers.length) {
    throw new ImageExportError(`docker save ${image}: the config lists ${diffIds.length} layers but the archive has ${entry.Layers.length}`)
  }
  return { config, layers: entry.Layers.map((name, index) => ({ diffId: diffIds[index], file: read(name) })) }
}
