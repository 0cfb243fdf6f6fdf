import * as fs from 'node:fs'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { MANIFEST_MEDIA_TYPE, type RegistryImage } from './image-manifest'

const API_HEADER = { 'Docker-Distribution-Api-Version': 'registry/2.0' }

type BlobSource = { size: number; content: Buffer } | { size: number; path: string }

/**
 * A read-only Docker Registry HTTP API v2 for one image, bound to 127.0.0.1 on a free port:
 * `GET /v2/`, `GET|HEAD /v2/<repo>/manifests/<tag|digest>`, `GET|HEAD /v2/<repo>/blobs/<digest>`
 * (with `Range: bytes=N-M`, so a pull can resume a cut download). Everything else is 404/405.
 */
export class RegistryServer {
  private constructor(
    private readonly server: http.Server,
    readonly port: number,
  ) {}

  static async start(image: RegistryImage): Promise<RegistryServer> {
    const blobs = new Map<string, BlobSource>([[image.configDigest, { size: image.config.length, content: image.config }]])
    for (const layer of image.layers) blobs.set(layer.digest, { size: layer.size, path: layer.path })
    const server = http.createServer((request, response) => answer(image, blobs, request, response))
    server.keepAliveTimeout = 30_000
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    return new RegistryServer(server, (server.address() as AddressInfo).port)
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }
}

function answer(image: RegistryImage, blobs: Map<string, BlobSource>, request: http.IncomingMessage, response: http.ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://registry')
  if (request.method !== 'GET' && request.method !== 'HEAD') return fail(response, 405, 'UNSUPPORTED', 'this registry is read-only')
  if (url.pathname === '/v2/' || url.pathname === '/v2') return send(response, 200, { 'Content-Type': 'application/json' }, Buffer.from('{}'), request.method)

  const match = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname)
  if (!match || match[1] !== image.repository) return fail(response, 404, 'NAME_UNKNOWN', 'repository name not known to registry')
  const [, , kind, reference] = match
  if (kind === 'manifests') {
    if (reference !== image.tag && reference !== image.manifestDigest) return fail(response, 404, 'MANIFEST_UNKNOWN', 'manifest unknown')
    return send(response, 200, { 'Content-Type': MANIFEST_MEDIA_TYPE, 'Docker-Content-Digest': image.manifestDigest }, image.manifest, request.method)
  }
  const blob = blobs.get(reference)
  if (!blob) return fail(response, 404, 'BLOB_UNKNOWN', 'blob unknown to registry')
  sendBlob(request, response, reference, blob)
}

function sendBlob(request: http.IncomingMessage, response: http.ServerResponse, digest: string, blob: BlobSource): void {
  const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': digest, 'Accept-Ranges': 'bytes', ...API_HEADER }
  const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '')
  let start = 0
  let end = blob.size - 1
  let status = 200
  if (range) {
    start = Number(range[1])
    end = range[2] ? Math.min(Number(range[2]), blob.size - 1) : blob.size - 1
    if (start > end) {
      response.writeHead(416, { 'Content-Range': `bytes */${blob.size}`, ...API_HEADER })
      return void response.end()
    }
    status = 206
    headers['Content-Range'] = `bytes ${start}-${end}/${blob.size}`
  }
  headers['Content-Length'] = end - start + 1
  response.writeHead(status, headers)
  if (request.method === 'HEAD' || blob.size === 0) return void response.end()
  if ('content' in blob) return void response.end(blob.content.subarray(start, end + 1))
  const stream = fs.createReadStream(blob.path, { start, end, highWaterMark: 256 * 1024 })
  stream.on('error', (error) => response.destroy(error))
  response.on('close', () => stream.destroy())
  stream.pipe(response)
}

function send(response: http.ServerResponse, status: number, headers: http.OutgoingHttpHeaders, body: Buffer, method: string): void {
  response.writeHead(status, { ...headers, 'Content-Length': body.length, ...API_HEADER })
  response.end(method === 'HEAD' ? undefined : body)
}

function fail(response: http.ServerResponse, status: number, code: string, message: string): void {
  const body = Buffer.from(JSON.stringify({ errors: [{ code, message }] }))
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length, ...API_HEADER })
  response.end(body)
}
