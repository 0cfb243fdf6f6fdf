import type { PlanRequest } from '../../src/plan/deploy-plan'

/** A deploy request as make-plan would build it, with a buildx build step and a fixed clock. */
export const planRequest = (overrides: Partial<PlanRequest> = {}): PlanRequest => ({
  command: 'deploy',
  skipPush: false,
  performer: 'ci@example.com',
  registryUser: 'deployer',
  hooks: new Set(),
  build: [{ kind: 'runner', purpose: 'build and push the image', argv: ['docker', 'buildx', 'build', '.'], display: 'docker buildx build .', cwd: '/tmp', changes: true }],
  accessories: [],
  now: () => new Date('2026-01-01T00:00:00Z'),
  ...overrides,
})
