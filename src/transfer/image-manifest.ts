import { createHash } from 'node:crypto'
import type { Blob } from './layer-blobs'

export const MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json'
export const CONFIG_MEDIA_TYPE = 'application/vnd.docker.container.image.v1+json'

/** What a registry needs to serve one image: its manifest and every blob it names. */
export interface RegistryImage {
  /** repository path, e.g. `acme/app` */
  repository: string
  tag: string
  manifest: Buffer
  manifestDigest: string
  config: Buffer
  configDigest: string
  layers: Blob[]
}

export const sha256Digest = (content: Buffer) => `sha256:${createHash('sha256').update(content).digest('hex')}`

/** A Docker image manifest v2 schema 2 for the config (its exact bytes, so the image ID is unchanged) and the layer blobs. */
export function registryImage(repository: string, tag: string, config: Buffer, layers: Blob[]): RegistryImage {
  const configDigest = sha256Digest(config)
  const manifest = Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: MANIFEST_MEDIA_TYPE,
        config: { mediaType: CONFIG_MEDIA_TYPE, size: config.length, digest: configDigest },
        layers: layers.map((layer) => ({ mediaType: layer.mediaType, size: layer.size, digest: layer.digest })),
      },
      null,
      3,
    ),
  )
  return { repository, tag, manifest, manifestDigest: sha256Digest(manifest), config, configDigest, layers }
}
