/**
 * The summary reporter prints one line per skipped test with the reason its file recorded
 * (skip-reasons.ts), and the closing line CI reads. Runs a jest of its own on a fixture file.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

test('each skipped test is printed with its reason, then the closing line', () => {
  const swc = JSON.parse(fs.readFileSync(path.join(ROOT, '.swcrc'), 'utf8'));
  const config = {
    rootDir: ROOT,
    testMatch: ['<rootDir>/test/support/fixtures/skip-reasons.fixture.ts'],
    transform: { '^.+\\.ts$': ['@swc/jest', { ...swc, swcrc: false }] },
    testEnvironment: 'node',
    reporters: ['<rootDir>/test/support/summary-reporter.js'],
  };
  const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/jest/bin/jest.js'), '--ci', '--config', JSON.stringify(config)], {
    cwd: ROOT, encoding: 'utf8', timeout: 50_000,
  });
  const lines = run.stdout.split('\n').filter((l) => l.startsWith('skipped: ') || l.startsWith('tests: '));
  const file = 'test/support/fixtures/skip-reasons.fixture.ts';
  expect({ lines, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
    lines: [
      `skipped: ${file} › gadget › spins: no gadget on this machine`,
      `skipped: ${file} › always › takes an hour: too slow for the default run`,
      'tests: 1 passed, 0 failed, 2 skipped',
    ],
    stderr: '',
  });
}, 60_000);
