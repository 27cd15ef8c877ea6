// Two projects: fast unit specs beside the code, and integration tests that start a real
// ZooKeeper. Both run TypeScript through swc, the same transformer bin/ uses at run time.
const fs = require('node:fs');
const swc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));
const common = {
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { ...swc, swcrc: false }] },
  moduleNameMapper: { '^@nodepool-ts/sdk$': '<rootDir>/src/plugins/index.ts', '^@nodepool-ts/sdk/testing$': '<rootDir>/src/plugins/testing/index.ts' },
  testEnvironment: 'node',
  setupFiles: ['reflect-metadata'],
};
/** @type {import('jest').Config} */
module.exports = {
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  // Per-project testTimeout is ignored by jest 30; integration tests talk to a real server.
  testTimeout: 30000,
  // Two workers even on 2 cores (jest's default there is one): the integration tests mostly wait on
  // ZooKeeper, child processes and the OpenStack testbed, so one worker leaves the machine idle
  // (load ~1 during a CI run). Suites that share one resource serialize on a lock of their own
  // (the testbed's test-lock); everything else takes free ports.
  maxWorkers: Number(process.env.NODEPOOL_TS_JEST_WORKERS ?? 2),
  // A handle left open by a test that kills a launcher's session mid-flight must not keep CI
  // waiting forever once every test has finished; the results are complete at that point. Open
  // handles are still hunted with --detectOpenHandles.
  forceExit: true,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/plugins/*/src/**/*.spec.ts', '<rootDir>/test/*.spec.ts', '<rootDir>/test/support/**/*.spec.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
  ],
};
