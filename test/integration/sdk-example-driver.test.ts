/**
 * Issue 16's "done when": the example out-of-tree driver (examples/local-driver) builds,
 * type-checks and passes the SDK's driver conformance suite using only the `npm pack` tarball of
 * packages/sdk — no path into this repository's src/ — with this repository as the launcher
 * (NODEPOOL_TS_HOME) and the suite's ZooKeeper.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { installExample, packSdk, ROOT } from '../support/sdk-example';
import { startZooKeeper, type ZooKeeperServer } from '../support/zookeeper-server';

let server: ZooKeeperServer;
let tmp: string;

beforeAll(async () => {
  server = await startZooKeeper();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-example-'));
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The environment of a child tool: ours without the parent jest's variables. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('JEST_') && k !== 'NODE_OPTIONS'));
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d.toString()));
    child.stderr.on('data', (d) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

it('the example driver builds from the packed SDK, type-checks and passes the conformance suite', async () => {
  const tarball = packSdk(tmp);
  const dir = installExample(tmp, tarball);
  // The SDK is the tarball's content, not a link into the repository.
  const sdk = path.join(dir, 'node_modules/@nodepool-ts/sdk');
  expect(fs.lstatSync(sdk).isSymbolicLink()).toBe(false);
  expect(fs.existsSync(path.join(sdk, 'dist/index.d.ts')) && fs.existsSync(path.join(sdk, 'dist/testing/index.d.ts'))).toBe(true);

  await promisify(execFile)(process.execPath, [path.join(dir, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir }).catch((err: { stdout?: string }) => {
    throw new Error(`tsc failed on the example:\n${err.stdout ?? String(err)}`);
  });

  const jest = await run(process.execPath, [path.join(dir, 'node_modules/jest/bin/jest.js'), '--ci'], dir, childEnv({
    NODEPOOL_TS_TEST_ZK: server.connectString,
    NODEPOOL_TS_HOME: ROOT,
  }));
  const summary = jest.output.split('\n').filter((l) => /^(Tests|Test Suites):/.test(l)).join('\n');
  if (jest.code !== 0) throw new Error(`the example's tests failed:\n${jest.output.slice(-6000)}`);
  expect(summary).toMatch(/Tests:\s+7 passed, 7 total/);
}, 300_000);
