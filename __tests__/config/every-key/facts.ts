import * as os from 'node:os'
import type { RunnerFacts } from '../../../src/commands/builder'

/** A runner as GitHub's Ubuntu image is: docker with buildx, amd64, a git checkout; no pack CLI. */
export function buildFacts(projectDir: string): RunnerFacts {
  return {
    docker: true,
    buildx: true,
    pack: true,
    dockerArch: 'amd64',
    projectDir,
    git: { root: projectDir, revision: 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed' },
    tempDir: os.tmpdir(),
    dockerfilePresent: true,
    env: { PATH: '/usr/bin:/bin', ACTIONS_RUNTIME_TOKEN: 'runtime-token', ACTIONS_RESULTS_URL: 'https://results.example/', SSH_AUTH_SOCK: '/tmp/agent.sock' },
  }
}
