import fs from 'node:fs';
import path from 'node:path';
import { skipBecause } from './skip-reasons';
import { SAMPLES_DIR, SHARED_SAMPLES_DIR } from './spec-samples';

function listFiles(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name), path.join(prefix, e.name)) : [path.join(prefix, e.name)],
  ).sort();
}

const shared = fs.existsSync(SHARED_SAMPLES_DIR);
if (!shared) skipBecause(`${SHARED_SAMPLES_DIR} not found; the copy cannot be compared with it`);

(shared ? test : test.skip)('the project copy of the Nodepool samples equals the shared spec samples', () => {
  const ours = listFiles(SAMPLES_DIR);
  expect(ours).toEqual(listFiles(SHARED_SAMPLES_DIR));
  for (const f of ours) expect(`${f}: ${fs.readFileSync(path.join(SAMPLES_DIR, f), 'utf8')}`).toBe(`${f}: ${fs.readFileSync(path.join(SHARED_SAMPLES_DIR, f), 'utf8')}`);
});
