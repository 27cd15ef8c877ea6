/**
 * Detects the real OpenStack testbed (test/support/openstack-testbed/testbed-up.sh). Tests that
 * need it skip with the reason when it is not there; `npm test` never starts it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { skipBecause } from './skip-reasons';

/** Where the testbed's clouds.yaml is, or why the testbed cannot be used. */
export type TestbedStatus = { available: true; cloudsFile: string } | { available: false; reason: string };

/**
 * Looks for the clouds.yaml testbed-up.sh writes and a Keystone that answers. Synchronous, so a
 * test file can choose `describe` or `describe.skip` while jest collects it.
 */
export function detectTestbed(): TestbedStatus {
  const status = probeTestbed();
  // CI brings the testbed up: there a missing testbed is a failure, not a reason to skip.
  if (!status.available && process.env.NODEPOOL_TS_REQUIRE_OPENSTACK === '1') {
    throw new Error(`the OpenStack testbed is required (NODEPOOL_TS_REQUIRE_OPENSTACK=1) but ${status.reason}`);
  }
  // The caller skips its tests: the summary reporter prints this beside each of them.
  if (!status.available) skipBecause(`OpenStack testbed: ${status.reason}`);
  return status;
}

function probeTestbed(): TestbedStatus {
  const dir = process.env.OS_TESTBED_DIR ?? '/var/tmp/nodepool-ts-openstack-testbed';
  const cloudsFile = process.env.OS_TESTBED_CLOUDS ?? path.join(dir, 'clouds.yaml');
  const hint = 'start it with test/support/openstack-testbed/testbed-up.sh (after install.sh), as root';
  if (!fs.existsSync(cloudsFile)) return { available: false, reason: `no ${cloudsFile}; ${hint}` };
  // A child process, because jest collects test files synchronously.
  const probe = spawnSync(process.execPath, ['-e', `fetch('http://127.0.0.1:5000/v3', { signal: AbortSignal.timeout(2000) })
    .then((r) => process.exit(r.ok ? 0 : 3), () => process.exit(4))`], { timeout: 5000 });
  if (probe.status !== 0) return { available: false, reason: `Keystone is not answering on 127.0.0.1:5000; ${hint}` };
  return { available: true, cloudsFile };
}

/**
 * Takes the testbed for one test file until the returned release is called. The testbed is one
 * project with one quota: files that change the quota or reap "leaked" servers must not run beside
 * each other when jest runs several workers. The lock is a file created exclusively (`wx`, atomic)
 * holding the owner's pid. A waiter only reads it: an earlier lock directory, which waiters read
 * with a creating flag, once got a file recreated inside it while its owner removed it, so the
 * release failed (ENOTEMPTY) and the left-over lock, with no pid in it, held every later file
 * until its timeout. A lock whose owner is gone (or that stayed without a pid for 30 s: its
 * owner died between create and write) is taken over.
 */
export async function lockTestbed(timeoutMs = 600_000, pollMs = 500): Promise<() => void> {
  const file = path.join(process.env.OS_TESTBED_DIR ?? '/var/tmp/nodepool-ts-openstack-testbed', 'test-lock.pid');
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = fs.openSync(file, 'wx');
      try {
        fs.writeSync(fd, String(process.pid));
      } finally {
        fs.closeSync(fd);
      }
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = lockOwner(file);
    if (owner && (owner.pid > 0 ? !alive(owner.pid) : owner.ageMs > 30_000)) {
      // Only the lock we judged: a waiter that took it over meanwhile has a new file (inode).
      const now = lockOwner(file);
      if (now && now.ino === owner.ino) fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > end) throw new Error(`the OpenStack testbed stayed locked by pid ${owner?.pid ?? '?'} (${file})`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The lock file's owner pid (0: not written yet), age and inode; undefined when it is gone. */
function lockOwner(file: string): { pid: number; ageMs: number; ino: number } | undefined {
  try {
    const st = fs.statSync(file);
    return { pid: Number(fs.readFileSync(file, 'utf8')) || 0, ageMs: Date.now() - st.mtimeMs, ino: st.ino };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
