/**
 * lockTestbed serializes the testbed's test files across jest workers (processes). Three processes
 * take and release it in a tight loop and record who holds it: never two at once, and no release
 * fails (a failed release once left a lock behind that held every later file until its timeout).
 * A lock left by a dead process, or left without a pid for 30 s, is taken over.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lockTestbed } from './openstack-testbed';

const ROOT = path.resolve(__dirname, '../..');
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'testbed-lock-'));
  process.env.OS_TESTBED_DIR = dir;
});
afterEach(() => {
  delete process.env.OS_TESTBED_DIR;
  fs.rmSync(dir, { recursive: true, force: true });
});

const CHILD = `
const fs = require('node:fs');
const { lockTestbed } = require('./test/support/openstack-testbed');
(async () => {
  for (let i = 0; i < 25; i++) {
    const release = await lockTestbed(60000, 1);
    const mark = process.env.OS_TESTBED_DIR + '/holder';
    if (fs.existsSync(mark)) fs.appendFileSync(process.env.OS_TESTBED_DIR + '/overlaps', process.pid + '\\n');
    fs.writeFileSync(mark, String(process.pid));
    await new Promise((r) => setTimeout(r, 2));
    fs.rmSync(mark);
    release();
  }
})().catch((err) => { console.error(err.message); process.exit(1); });
`;

it('three processes never hold it at once, and every release succeeds', async () => {
  const codes = await Promise.all([1, 2, 3].map(() => new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['-r', './bin/ts-register.js', '-e', CHILD], { cwd: ROOT, env: { ...process.env, OS_TESTBED_DIR: dir }, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', resolve);
  })));
  expect(codes).toEqual([0, 0, 0]);
  expect(fs.existsSync(path.join(dir, 'overlaps'))).toBe(false);
  expect(fs.readdirSync(dir)).toEqual([]);
}, 60_000);

it('takes over a lock whose owner is gone, or that has had no pid for 30 s', async () => {
  const file = path.join(dir, 'test-lock.pid');
  fs.writeFileSync(file, '999999999');
  (await lockTestbed(5_000, 1))();
  fs.writeFileSync(file, '');
  const old = new Date(Date.now() - 31_000);
  fs.utimesSync(file, old, old);
  (await lockTestbed(5_000, 1))();
  expect(fs.existsSync(file)).toBe(false);
  // A live owner is waited for.
  fs.writeFileSync(file, String(process.pid));
  await expect(lockTestbed(100, 1)).rejects.toThrow(/stayed locked by pid/);
});
