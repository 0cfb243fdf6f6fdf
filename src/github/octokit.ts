import type * as GitHub from '@actions/github'

export type Octokit = ReturnType<typeof GitHub.getOctokit>

/**
 * An Octokit for the token. @actions/github (Octokit and its plugins) is loaded here, on the
 * first call, not when the bundle starts: most runs never talk to the API, and loading it
 * up front adds to every run's start, before the first SSH connection opens.
 */
export function getOctokit(token: string, options: { baseUrl?: string } = {}): Octokit {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const github = require('@actions/github') as typeof GitHub
  return github.getOctokit(token, options)
}
