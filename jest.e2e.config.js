/** End-to-end tests on real local hosts (harness/): run serially, as root. */
/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__/e2e'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testTimeout: 300000,
  maxWorkers: 1,
  // A failed e2e test can leave a load generator or a child running; never hold the shared harness after the run.
  forceExit: true,
}
