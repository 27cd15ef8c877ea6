/**
 * Reads the samples captured from Python Nodepool (znode bodies, CLI and web output). The project
 * keeps its own copy in `test/fixtures/nodepool-samples`, so a clone anywhere can run the tests;
 * `spec-samples.spec.ts` checks the copy still equals the shared spec's `samples` folder when that
 * folder sits beside the clone.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Folder of the captured samples. */
export const SAMPLES_DIR = path.resolve(__dirname, '..', 'fixtures', 'nodepool-samples');

/** The shared spec's samples folder, when the clone sits beside `shared/` (as in CI). */
export const SHARED_SAMPLES_DIR = path.resolve(__dirname, '..', '..', '..', 'shared', 'spec', 'samples');

/** Parses one sample file. */
export function loadSample<T = Record<string, unknown>>(name: string): T {
  const file = path.join(SAMPLES_DIR, name);
  if (!fs.existsSync(file)) throw new Error(`sample ${file} not found`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}
