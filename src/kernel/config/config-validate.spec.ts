import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runConfigValidate } from './config-validate';
import { cloudDriver, plainDriver } from './test-drivers';

describe('runConfigValidate', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'validate-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function run(text: string, env: NodeJS.ProcessEnv = {}, secure?: string): { code: number; lines: [string, string?][]; file: string } {
    const file = path.join(tmp, 'nodepool.yaml');
    fs.writeFileSync(file, text);
    let securePath: string | null = null;
    if (secure !== undefined) fs.writeFileSync((securePath = path.join(tmp, 'secure.yaml')), secure);
    const lines: [string, string?][] = [];
    const code = runConfigValidate({
      file, secure: securePath, drivers: [cloudDriver, plainDriver], env, log: (line, level) => lines.push([line, level]),
      read: { sleep: () => undefined },
    });
    return { code, lines, file };
  }

  it('exits 0 and logs only the first line for a good file (with NODEPOOL_* substitution)', () => {
    const r = run('labels: [{name: a}]\nzookeeper-servers:\n  - host: zk\n    port: %(NODEPOOL_PORT)\n', { NODEPOOL_PORT: '2181' });
    expect(r).toMatchObject({ code: 0, lines: [[`validating ${r.file}`, 'info']] });
  });

  it('logs YAML errors', () => {
    const r = run('labels: [\n');
    expect(r.code).toBe(1);
    expect(r.lines[1][0]).toMatch(new RegExp(`^${r.file}: YAML parsing failed: .* at line 2, column 1$`));
    expect(r.lines.slice(2).map(([l]) => l).join('\n')).toContain('labels: [');
  });

  it('logs "Schema validation failed" then every schema error, then cross-check errors', () => {
    const r = run('nothandled: 1\nzookeeper-timeout: 30\nlabels: [{name: a}]\nproviders:\n  - {name: p, driver: plain, pools: [{name: m, labels: [{name: b}]}]}\n');
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([
      [`validating ${r.file}`, 'info'],
      ['Schema validation failed', 'error'],
      [`${r.file}: nothandled: extra keys not allowed`, 'error'],
      [`${r.file}: zookeeper-timeout: expected float, got int 30 (write 30.0)`, 'error'],
      [`${r.file}: providers[0].pools[0]: label b in provider p not in top-level labels`, 'error'],
    ]);
  });

  it('reports a missing file', () => {
    const lines: string[] = [];
    const file = path.join(tmp, 'missing.yaml');
    expect(runConfigValidate({ file, drivers: [], log: (l) => lines.push(l), env: {}, read: { sleep: () => undefined } })).toBe(1);
    expect(lines).toEqual([`validating ${file}`, `${file}: cannot read the file: file not found`]);
  });

  it('checks the secure file too', () => {
    const r = run('diskimages: [{name: a}]\n', {}, 'diskimages: [{name: b}]\n');
    expect(r.code).toBe(1);
    expect(r.lines[1]).toEqual([`${path.join(tmp, 'secure.yaml')}: diskimages[0].name: unknown diskimage b`, 'error']);
  });

  it('names the position of a YAML error in the secure file without printing its lines (credentials)', () => {
    const r = run('labels: [{name: a}]\n', {}, 'zookeeper-tls:\n  key: /etc/key-Secret-9\n  ca: [\n');
    expect(r.code).toBe(1);
    expect(r.lines[1][0]).toMatch(new RegExp(`^${path.join(tmp, 'secure.yaml')}: YAML parsing failed: .* at line \\d+, column \\d+$`));
    expect(JSON.stringify(r.lines)).not.toContain('Secret-9');
  });
});
