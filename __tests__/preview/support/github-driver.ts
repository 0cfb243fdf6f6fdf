/**
 * Runs src/github/preview-comment.ts in its own process (jest cannot load
 * @actions/github's ESM dependencies): argv[2] is a JSON list of operations,
 * the answer is a JSON list of results on stdout.
 */
import { pullRequestStates, StickyComment, type RepositoryApi } from '../../../src/github/preview-comment'

type Operation = { kind: 'writes'; pr: number; service: string; bodies: string[] } | { kind: 'states'; numbers: number[] }

async function main(): Promise<void> {
  const [apiText, operationsText] = process.argv.slice(2)
  const api = JSON.parse(apiText) as RepositoryApi
  const results: unknown[] = []
  for (const operation of JSON.parse(operationsText) as Operation[]) {
    if (operation.kind === 'writes') {
      const comment = StickyComment.for(api, operation.pr, operation.service)
      const ids: Array<number | undefined> = []
      for (const body of operation.bodies) ids.push(await comment.write(body))
      results.push(ids)
    } else {
      results.push([...(await pullRequestStates(api, operation.numbers)).entries()])
    }
  }
  process.stdout.write(`\n@@RESULT@@${JSON.stringify(results)}\n`)
}

void main()
