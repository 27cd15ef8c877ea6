/**
 * Reads the samples captured from Python Nodepool. They live in the shared spec folder beside
 * the clone (`../shared/spec/samples` from the repo root), as in CI.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Folder of the captured samples. */
export const SAMPLES_DIR = path.resolve(__dirname, '..', '..', '..', 'shared', 'spec', 'samples');

/** Parses one sample file, failing with a hint when the shared folder is missing. */
export function loadSample<T = Record<string, unknown>>(name: string): T {
  const file = path.join(SAMPLES_DIR, name);
  if (!fs.existsSync(file)) throw new Error(`sample ${file} not found: the shared spec folder must sit beside the repo (../shared)`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}
