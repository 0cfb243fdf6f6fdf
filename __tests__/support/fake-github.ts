import * as http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedCall {
  method: string
  path: string
  authorization?: string
  body: Record<string, unknown>
}

/** A pull request comment the stand-in holds. */
export interface FakeComment {
  id: number
  issue: number
  body: string
}

export interface FakeGitHub {
  url: string
  calls: RecordedCall[]
  /** issue comments (created with POST …/issues/N/comments, edited with PATCH …/issues/comments/ID) */
  comments: FakeComment[]
  /** pull request states GET …/pulls/N answers; a number not here is 404 */
  pulls: Map<number, 'open' | 'closed'>
  close: () => Promise<void>
}

/**
 * A local stand-in for the GitHub REST API's deployment endpoints, issue
 * comments and pull request states; it records every call.
 */
export async function startFakeGitHub(deploymentId = 4242): Promise<FakeGitHub> {
  const calls: RecordedCall[] = []
  const comments: FakeComment[] = []
  const pulls = new Map<number, 'open' | 'closed'>()
  const server = http.createServer((request, response) => {
    let text = ''
    request.on('data', (chunk) => (text += chunk))
    request.on('end', () => {
      const body = text ? JSON.parse(text) : {}
      calls.push({ method: request.method ?? '', path: request.url ?? '', authorization: request.headers.authorization, body })
      const deployments = /^\/repos\/([^/]+)\/([^/]+)\/deployments$/.exec(request.url ?? '')
      const statuses = /^\/repos\/([^/]+)\/([^/]+)\/deployments\/(\d+)\/statuses$/.exec(request.url ?? '')
      response.setHeader('content-type', 'application/json')
      const pathname = (request.url ?? '').split('?')[0]
      const issueComments = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(pathname)
      const comment = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(pathname)
      const pull = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)$/.exec(pathname)
      const answer = (status: number, value: unknown) => {
        response.statusCode = status
        response.end(JSON.stringify(value))
      }
      const listDeployments = pathname.match(/^\/repos\/[^/]+\/[^/]+\/deployments$/) && request.method === 'GET'
      if (listDeployments) {
        const environment = new URL(request.url ?? '', 'http://stand-in').searchParams.get('environment')
        const created = calls.filter((call) => call.method === 'POST' && call.path === pathname && (environment === null || call.body.environment === environment))
        answer(200, created.map((call) => ({ id: deploymentId, environment: call.body.environment, ref: call.body.ref })))
      } else if (issueComments && request.method === 'GET') {
        answer(200, comments.filter((item) => item.issue === Number(issueComments[1])).map((item) => ({ id: item.id, body: item.body })))
      } else if (issueComments && request.method === 'POST') {
        const created = { id: 7000 + comments.length + 1, issue: Number(issueComments[1]), body: String(body.body) }
        comments.push(created)
        answer(201, { id: created.id, body: created.body })
      } else if (comment && request.method === 'PATCH') {
        const found = comments.find((item) => item.id === Number(comment[1]))
        if (found) found.body = String(body.body)
        answer(found ? 200 : 404, found ? { id: found.id, body: found.body } : { message: 'Not Found' })
      } else if (pull && request.method === 'GET') {
        const state = pulls.get(Number(pull[1]))
        answer(state ? 200 : 404, state ? { number: Number(pull[1]), state } : { message: 'Not Found' })
      } else if ((deployments ?? statuses)?.[2] === 'unknown') {
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
  return { url: `http://127.0.0.1:${port}`, calls, comments, pulls, close: () => new Promise((resolve) => server.close(() => resolve())) }
}
