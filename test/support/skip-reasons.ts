/**
 * Why tests are skipped, for test/support/summary-reporter.js: jest prints nothing for a skipped
 * file, so a test file that skips records its reason here and the reporter prints one line per
 * skipped test with it. The reporter names a folder in NODEPOOL_TS_SKIP_REASONS (jest starts the
 * test processes after the reporters, so they inherit it); each test file appends to its own file
 * there, named by skipReasonFile().
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Where a test file's reasons go inside the reporter's folder (the reporter uses the same rule). */
export function skipReasonFile(dir: string, testPath: string): string {
  return path.join(dir, `${createHash('sha1').update(testPath).digest('hex')}.jsonl`);
}

/**
 * Records why the current test file skips tests (all of them, or those under the describe or test
 * named `title`). Call it while the file is collected, beside the `describe.skip`. Without the
 * reporter (another `--reporters`) the reason goes to the console instead; outside jest it is a no-op.
 */
export function skipBecause(reason: string, title?: string): void {
  const testPath = (globalThis as { expect?: { getState?: () => { testPath?: string } } }).expect?.getState?.().testPath;
  if (!testPath) return;
  const dir = process.env.NODEPOOL_TS_SKIP_REASONS;
  if (!dir || !fs.existsSync(dir)) {
    console.warn(`skipped: ${path.basename(testPath)}${title ? ` › ${title}` : ''}: ${reason}`);
    return;
  }
  fs.appendFileSync(skipReasonFile(dir, testPath), `${JSON.stringify({ title, reason })}\n`);
}

/**
 * `describe` when `skipReason` is undefined, else `describe.skip` with the reason recorded for
 * that describe.
 */
export function describeUnless(skipReason: string | undefined): (name: string, fn: () => void) => void {
  if (skipReason === undefined) return describe;
  return (name, fn) => {
    skipBecause(skipReason, name);
    describe.skip(name, fn);
  };
}
