import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nodepoolMain, type CliIo } from './nodepool-cli';

function io(): CliIo & { out: string; err: string } {
  const r = { out: '', err: '', env: {} as NodeJS.ProcessEnv, stdout: (t: string) => void (r.out += t), stderr: (t: string) => void (r.err += t) };
  return r;
}

describe('nodepool CLI', () => {
  let tmp: string;
  beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'np-cli-'))));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('config-validate exits 0 on the example config, logging like Nodepool', async () => {
    const r = io();
    const code = await nodepoolMain(['-c', path.resolve(__dirname, '../../config/example-nodepool.yaml'), 'config-validate'], r);
    expect(code).toBe(0);
    expect(r.err).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO nodepool\.cmd\.config_validator: validating .*example-nodepool\.yaml\n$/);
  });

  it('config-validate exits 1 and names file and key path of each error', async () => {
    const file = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(file, 'labels:\n  - name: x\n    min-ready: "a"\nnothandled: 1\n');
    const r = io();
    expect(await nodepoolMain(['-c', file, 'config-validate'], r)).toBe(1);
    expect(r.err).toContain('ERROR nodepool.cmd.config_validator: Schema validation failed');
    expect(r.err).toContain(`${file}: labels[0].min-ready:`);
    expect(r.err).toContain(`${file}: nothandled: extra keys not allowed`);
  });

  it('prints help and exits 1 without a subcommand; rejects unknown commands', async () => {
    const r = io();
    expect(await nodepoolMain([], r)).toBe(1);
    expect(r.out).toContain('config-validate');
    const r2 = io();
    expect(await nodepoolMain(['no-such-command'], r2)).toBe(2);
    expect(r2.err).toMatch(/unknown command/);
  });
});
