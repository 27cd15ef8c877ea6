// The tests run on the compiled output (`npm test` runs tsc first): no TypeScript transformer
// needed, and they test exactly what the launcher loads.
/** @type {import('jest').Config} */
module.exports = {
  testMatch: ['<rootDir>/dist/test/**/*.test.js'],
  testEnvironment: 'node',
  testTimeout: 120000,
};
