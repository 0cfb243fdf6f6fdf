import * as fs from 'node:fs'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import { MANIFEST_MEDIA_TYPE, registryImage, sha256Digest } from '../../src/transfer/image-manifest'
import { GZIP_LAYER } from '../../src/transfer/layer-blobs'
import { RegistryServer } from '../../src/transfer/registry-server'

// Several MiB through a real HTTP server: on a loaded 2-core machine this takes longer than jest's 5 s default.
jest.setTimeout(30_000)

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

function request(port: number, urlPath: string, options: { method?: string; headers?: http.OutgoingHttpHeaders } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = http.request({ host: '127.0.0.1', port, path: urlPath, method: options.method ?? 'GET', headers: options.headers, agent: false }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }))
    })
    sent.on('error', reject)
    sent.end()
  })
}

const layerContent = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 256))
const config = Buffer.from('{"architecture":"amd64","rootfs":{"type":"layers","diff_ids":["sha256:00"]}}')
let server: RegistryServer
let image: ReturnType<typeof registryImage>

beforeAll(async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'registry-')), 'blob')
  fs.writeFileSync(file, layerContent)
  image = registryImage('acme/app', 'v7', config, [{ digest: sha256Digest(layerContent), size: layerContent.length, path: file, mediaType: GZIP_LAYER }])
  server = await RegistryServer.start(image)
})

afterAll(() => server.close())

test('GET /v2/ answers as a v2 registry (no auth)', async () => {
  const answer = await request(server.port, '/v2/')
  expect(answer.status).toBe(200)
  expect(answer.headers['docker-distribution-api-version']).toBe('registry/2.0')
})

test('the manifest by tag and by digest: schema 2, naming the config and every layer', async () => {
  const byTag = await request(server.port, '/v2/acme/app/manifests/v7')
  expect(byTag.status).toBe(200)
  expect(byTag.headers['content-type']).toBe(MANIFEST_MEDIA_TYPE)
  expect(byTag.headers['docker-content-digest']).toBe(sha256Digest(byTag.body))
  const manifest = JSON.parse(byTag.body.toString('utf8'))
  expect(manifest).toMatchObject({ schemaVersion: 2, mediaType: MANIFEST_MEDIA_TYPE, config: { digest: sha256Digest(config), size: config.length } })
  expect(manifest.layers).toEqual([{ mediaType: GZIP_LAYER, size: layerContent.length, digest: sha256Digest(layerContent) }])
  const byDigest = await request(server.port, `/v2/acme/app/manifests/${image.manifestDigest}`)
  expect(byDigest.body).toEqual(byTag.body)
  const head = await request(server.port, '/v2/acme/app/manifests/v7', { method: 'HEAD' })
  expect(head.status).toBe(200)
  expect(Number(head.headers['content-length'])).toBe(byTag.body.length)
  expect(head.body.length).toBe(0)
})

test('blobs: the config and a layer, whole, by HEAD, and by range (a resumed download)', async () => {
  expect((await request(server.port, `/v2/acme/app/blobs/${sha256Digest(config)}`)).body).toEqual(config)
  const whole = await request(server.port, `/v2/acme/app/blobs/${sha256Digest(layerContent)}`)
  expect(whole.status).toBe(200)
  expect(sha256Digest(whole.body)).toBe(sha256Digest(layerContent))
  const head = await request(server.port, `/v2/acme/app/blobs/${sha256Digest(layerContent)}`, { method: 'HEAD' })
  expect(Number(head.headers['content-length'])).toBe(layerContent.length)
  const tail = await request(server.port, `/v2/acme/app/blobs/${sha256Digest(layerContent)}`, { headers: { Range: 'bytes=100000-' } })
  expect(tail.status).toBe(206)
  expect(tail.headers['content-range']).toBe(`bytes 100000-${layerContent.length - 1}/${layerContent.length}`)
  expect(tail.body).toEqual(layerContent.subarray(100000))
  const middle = await request(server.port, `/v2/acme/app/blobs/${sha256Digest(layerContent)}`, { headers: { Range: 'bytes=10-19' } })
  expect(middle.body).toEqual(layerContent.subarray(10, 20))
  const beyond = await request(server.port, `/v2/acme/app/blobs/${sha256Digest(layerContent)}`, { headers: { Range: `bytes=${layerContent.length}-` } })
  expect(beyond.status).toBe(416)
})

test('anything else: unknown tag, blob or repository is 404 with a registry error code; writes are 405', async () => {
  const codeOf = async (urlPath: string, method = 'GET') => {
    const answer = await request(server.port, urlPath, { method })
    return [answer.status, JSON.parse(answer.body.toString('utf8')).errors[0].code]
  }
  expect(await codeOf('/v2/acme/app/manifests/v8')).toEqual([404, 'MANIFEST_UNKNOWN'])
  expect(await codeOf(`/v2/acme/app/blobs/sha256:${'0'.repeat(64)}`)).toEqual([404, 'BLOB_UNKNOWN'])
  expect(await codeOf('/v2/acme/other/manifests/v7')).toEqual([404, 'NAME_UNKNOWN'])
  expect(await codeOf('/v2/acme/app/blobs/uploads/', 'POST')).toEqual([405, 'UNSUPPORTED'])
})

test('it listens on 127.0.0.1 only', async () => {
  const other = Object.values(os.networkInterfaces())
    .flat()
    .find((address) => address && address.family === 'IPv4' && !address.internal)
  if (!other) return
  await expect(
    new Promise((resolve, reject) => {
      const attempt = http.get({ host: other.address, port: server.port, path: '/v2/', timeout: 2000 }, resolve)
      attempt.on('error', reject)
    }),
  ).rejects.toThrow(/ECONNREFUSED/)
})
