import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedCall {
  method: string
  path: string
  authorization?: string
  body: Record<string, unknown>
}

/** A local stand-in for the GitHub REST API's deployment endpoints; it records every call. */
export async function startFakeGitHub(deploymentId = 4242): Promise<{ url: string; calls: RecordedCall[]; close: () => Promise<void> }> {
  const calls: RecordedCall[] = []
  const server = http.createServer((request, response) => {
    let text = ''
    request.on('data', (chunk) => (text += chunk))
    request.on('end', () => {
      const body = text ? JSON.parse(text) : {}
      calls.push({ method: request.method ?? '', path: request.url ?? '', authorization: request.headers.authorization, body })
      const deployments = /^\/repos\/([^/]+)\/([^/]+)\/deployments$/.exec(request.url ?? '')
      const statuses = /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/.exec(request.url ?? '')
      response.setHeader('content-type', 'application/json')
      if ((deployments ?? statuses)?.[2] === 'unknown') {
        response.statusCode = 404
        response.end(JSON.stringify({ message: 'Not Found' }))
      } else if (request.method === 'POST' && deployments) {
        response.statusCode = 201
        response.end(JSON.stringify({ id: deploymentId, environment: body.environment, ref: body.ref }))
      } else if (request.method === 'POST' && statuses && Number(statuses[3]) === deploymentId) {
        response.statusCode = 201
        response.end(JSON.stringify({ id: calls.length, state: body.state }))
      } else {
        response.statusCode = 404
        response.end(JSON.stringify({ message: 'Not Found' }))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, calls, close: () => new Promise((resolve) => server.close(() => resolve())) }
}
