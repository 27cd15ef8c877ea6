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

  it('config-validate loads the plugins (built-in and NODEPOOL_TS_PLUGIN_DIRS) and fails on a plugin that does not load', async () => {
    const plugins = path.join(tmp, 'plugins');
    fs.mkdirSync(path.join(plugins, 'broken'), { recursive: true });
    fs.writeFileSync(path.join(plugins, 'broken', 'package.json'), JSON.stringify({ name: 'broken', 'nodepool-ts': { entry: 'index.js' } }));
    const r = io();
    r.env = { NODEPOOL_TS_PLUGIN_DIRS: plugins };
    expect(await nodepoolMain(['-c', path.resolve(__dirname, '../../config/example-nodepool.yaml'), 'config-validate'], r)).toBe(1);
    expect(r.err).toContain(`ERROR nodepool.cmd.config_validator: plugin not loaded: ${path.join(fs.realpathSync(plugins), 'broken', 'package.json')}: "nodepool-ts.entry" index.js does not exist`);
    // The built-in drivers still validate the example's static and openstack providers.
    expect(r.err).not.toContain('unknown driver');
  });

  it('prints help and exits 1 without a subcommand; rejects unknown commands', async () => {
    const r = io();
    expect(await nodepoolMain([], r)).toBe(1);
    expect(r.out).toContain('config-validate');
    const r2 = io();
    expect(await nodepoolMain(['no-such-command'], r2)).toBe(2);
    expect(r2.err).toMatch(/unknown command/);
  });

  it('is strict: extra arguments, unknown flags and bad numbers are usage errors (exit 2) naming the problem', async () => {
    const cases: [string[], RegExp][] = [
      [['list', 'extra'], /^nodepool: error: too many arguments for 'list'\. Expected 0 arguments but got 1\.\n$/],
      [['list', '--bogus'], /^nodepool: error: unknown option '--bogus'\n$/],
      [['request', 'small', '--timeout', 'abc'], /--timeout expects a number of seconds >= 0, got "abc"/],
      [['request', 'small', '--hold-for', '-1'], /--hold-for expects a number of seconds >= 0, got "-1"/],
      [['request', 'small', '--priority', '1000'], /expects 1-3 digits/],
      [['return'], /missing required argument 'id'/],
      [['export-image-data'], /missing required argument 'path'/],
      [['help'], /unknown command 'help'/],
    ];
    for (const [args, message] of cases) {
      const r = io();
      expect([args, await nodepoolMain(args, r)]).toEqual([args, 2]);
      expect(r.err).toMatch(message);
    }
  });

  it('has every command of Nodepool\'s CLI, and --help exits 0', async () => {
    const r = io();
    expect(await nodepoolMain(['--help'], r)).toBe(0);
    for (const command of ['list', 'image-list', 'dib-image-list', 'image-status', 'image-build', 'delete', 'hold', 'image-delete',
      'dib-image-delete', 'config-validate', 'request-list', 'info', 'erase', 'image-pause', 'image-unpause', 'export-image-data', 'import-image-data']) {
      expect(r.out).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });
});

