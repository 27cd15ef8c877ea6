/**
 * nodepool.yaml fuzzing (issue 8 part 5): a few hundred mutations of a valid configuration, from
 * a fixed seed, through the loader and `nodepool config-validate`. Never a crash or a stack
 * trace; every error names the file and a key path (or a YAML position); a mutation inside one
 * provider leaves the other providers loaded.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { nodepoolMain } from '../../src/cli/nodepool-cli';
import { formatConfigError } from '../../src/kernel/config/config-error';
import { loadNodepoolConfig } from '../../src/kernel/config/nodepool-config-loader';
import { Kernel } from '../../src/kernel/kernel';
import type { ProviderDriver } from '../../src/plugins/driver';
import { Rng, weirdValue } from '../support/fuzz';
import { testSettings } from '../support/test-settings';

jest.setTimeout(180000);

const SEED = 8_5_2026;
const CASES = 300;
const ROOT = path.resolve(__dirname, '../..');
let tmp: string;
let kernel: Kernel;
let drivers: ProviderDriver[];

type Obj = Record<string, unknown>;

function staticProvider(name: string, host: string): Obj {
  return {
    name, driver: 'static',
    pools: [{ name: 'main', nodes: [{ name: host, labels: ['small'], 'host-key-checking': false, 'connection-port': 22, timeout: 5, 'max-parallel-jobs': 2 }] }],
  };
}

function validConfig(): Obj {
  return {
    'zookeeper-servers': [{ host: '127.0.0.1', port: 2181 }],
    webapp: { port: 8005, listen_address: '127.0.0.1' },
    labels: [{ name: 'small', 'min-ready': 0 }, { name: 'medium' }],
    providers: [staticProvider('static-a', '127.0.0.1'), staticProvider('static-b', '127.0.0.2'), staticProvider('static-c', '127.0.0.3')],
  };
}

/** Every [container, key] inside `value`, so a mutation can pick any place. */
function places(value: unknown, out: Array<[Obj | unknown[], string | number]> = []): Array<[Obj | unknown[], string | number]> {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([value, i]), places(v, out)));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) (out.push([value as Obj, k]), places(v, out));
  return out;
}

interface Mutation {
  text: string;
  /** True when only providers[1] was touched: static-a and static-c must still load. */
  local: boolean;
  what: string;
}

function mutate(rng: Rng): Mutation {
  const config = validConfig();
  const providers = config.providers as Obj[];
  const target = providers[1];
  const op = rng.int(10);
  const dump = (c: unknown): string => yaml.dump(c, { noRefs: true, lineWidth: -1 });
  const at = (root: unknown): [Obj | unknown[], string | number] => rng.pick(places(root));
  switch (op) {
    case 0: { // wrong type somewhere in providers[1]
      const [c, k] = at(target);
      (c as Obj)[k as string] = weirdValue(rng);
      return { text: dump(config), local: true, what: `wrong type at providers[1]…${k}` };
    }
    case 1: { // unknown key in some mapping of providers[1]
      const maps = places(target).map(([c, k]) => (c as Obj)[k as string]).filter((v) => v && typeof v === 'object' && !Array.isArray(v)) as Obj[];
      rng.pick([target, ...maps])[rng.pick(['bogus', 'max-servers ', 'Labels', '__proto__x'])] = weirdValue(rng);
      return { text: dump(config), local: true, what: 'unknown key in providers[1]' };
    }
    case 2: { // a required key missing in providers[1]
      const pool = (target.pools as Obj[])[0];
      const victim = rng.pick<[Obj, string]>([[target, 'name'], [target, 'driver'], [target, 'pools'], [pool, 'name'], [(pool.nodes as Obj[])[0], 'name'], [(pool.nodes as Obj[])[0], 'labels']]);
      delete victim[0][victim[1]];
      return { text: dump(config), local: true, what: `missing ${victim[1]} in providers[1]` };
    }
    case 3: { // huge or negative numbers in providers[1]
      const node = ((target.pools as Obj[])[0].nodes as Obj[])[0];
      const key = rng.pick(['connection-port', 'timeout', 'max-parallel-jobs']);
      const text = dump(config).replace(new RegExp(`(static-b[\\s\\S]*?${key}: )\\d+`), `$1${rng.pick(['1e999', '99999999999999999999999', '-1', '.nan', '0x7fffffffffffffff', '-.inf'])}`);
      void node;
      return { text, local: true, what: `huge number for ${key}` };
    }
    case 4: { // duplicate pool or node names inside providers[1]
      const pools = target.pools as Obj[];
      if (rng.chance(0.5)) pools.push(JSON.parse(JSON.stringify(pools[0])) as Obj);
      else (pools[0].nodes as Obj[]).push(JSON.parse(JSON.stringify((pools[0].nodes as Obj[])[0])) as Obj);
      return { text: dump(config), local: true, what: 'duplicate pool/node in providers[1]' };
    }
    case 5: { // duplicate provider names
      target.name = rng.pick(['static-c', 'static-b']);
      if (target.name === 'static-b') providers[2].name = 'static-b';
      return { text: dump(config), local: false, what: 'duplicate provider names' };
    }
    case 6: { // bad YAML
      const text = dump(config);
      const broken = rng.pick([
        () => text.slice(0, rng.int(text.length)),
        () => text.replace('providers:', 'providers: [\n'),
        () => text.replace('  - name: static-b', '\t- name: static-b'),
        () => `${text}\n: : :\n`,
        () => text.replace('labels:', 'labels: *nowhere'),
        () => `${text}providers: []\n`, // duplicate top-level key
        () => '\u0000\u0001binary\uffff',
        () => `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n${text}`,
      ]);
      return { text: broken(), local: false, what: 'bad YAML' };
    }
    case 7: { // top-level wrong types and unknown keys
      const key = rng.pick(['labels', 'providers', 'webapp', 'zookeeper-servers', 'max-hold-age', 'tenant-resource-limits', 'unknown-top']);
      config[key] = weirdValue(rng);
      return { text: dump(config), local: false, what: `top-level ${key}` };
    }
    case 8: { // the whole document of another shape
      return { text: rng.pick(['', '42', '[]', '- a\n- b\n', '"text"', 'null', '~']), local: false, what: 'not a mapping' };
    }
    default: { // a provider entry that is not a mapping at all
      providers[1] = weirdValue(rng) as Obj;
      return { text: dump(config), local: true, what: 'providers[1] not a mapping' };
    }
  }
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-config-'));
  kernel = await Kernel.create({ settings: testSettings({ tracing: { exporter: 'none' } }) });
  drivers = kernel.drivers.all();
});

afterAll(async () => {
  await kernel?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('hundreds of mutated nodepool.yaml files: no crash, errors name file and key path, other providers load', async () => {
  const rng = new Rng(SEED);
  const problems: string[] = [];
  let withErrors = 0;
  for (let i = 0; i < CASES; i++) {
    const m = mutate(rng);
    const file = path.join(tmp, `case-${i}.yaml`);
    fs.writeFileSync(file, m.text);
    const label = `case ${i} (${m.what})`;
    let result;
    try {
      result = loadNodepoolConfig(file, null, drivers, {}, { sleep: () => undefined });
    } catch (err) {
      problems.push(`${label}: loader threw ${(err as Error).stack}`);
      continue;
    }
    if (result.errors.length > 0) withErrors++;
    for (const e of result.errors) {
      const line = formatConfigError(e);
      if (e.file !== file || !line.startsWith(`${file}: `)) problems.push(`${label}: error without its file: ${line}`);
      // Schema and check errors name a key path; read/YAML errors name a position or the file.
      if ((e.stage === 'schema' || e.stage === 'check') && e.path === '' && !/dictionary of settings/.test(e.message)) {
        problems.push(`${label}: error without a key path: ${line}`);
      }
    }
    if (m.local) {
      const loaded = [...(result.config?.providers.keys() ?? [])];
      for (const name of ['static-a', 'static-c']) if (!loaded.includes(name)) problems.push(`${label}: ${name} not loaded (${result.errors.map(formatConfigError).join('; ')})`);
    }
    // The CLI on every tenth case (it builds a kernel per run).
    if (i % 10 === 0) {
      let out = '';
      const code = await nodepoolMain(['-c', file, 'config-validate'], { env: {}, stdout: (t) => void (out += t), stderr: (t) => void (out += t) });
      if (code !== (result.errors.length > 0 ? 1 : 0)) problems.push(`${label}: config-validate exited ${code}`);
      if (/\n\s+at /.test(out)) problems.push(`${label}: stack trace in config-validate output:\n${out}`);
    }
  }
  expect(problems).toEqual([]);
  expect(withErrors).toBeGreaterThan(CASES / 2);
});

test('bin/nodepool config-validate as a process: one line per problem, no stack trace, exit code 1', async () => {
  const file = path.join(tmp, 'bad.yaml');
  fs.writeFileSync(file, 'labels: [{name: small}]\nproviders:\n  - name: ok\n    driver: static\n    pools: [{name: main, nodes: [{name: 127.0.0.1, labels: [small]}]}]\n  - name: bad\n    driver: static\n    pools: [{name: main, nodes: [{name: 127.0.0.2, labels: small, connection-port: 1e999, bogus: 1}]}]\n  - 17\n');
  const { code, out } = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/nodepool'), '-c', file, 'config-validate'], (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, out: stdout + stderr });
    });
  });
  expect(code).toBe(1);
  expect(out).not.toMatch(/\n\s+at /);
  expect(out).toContain(`${file}: providers[1].pools[0].nodes[0]`);
  expect(out).toContain(`${file}: providers[2]`);
  expect(out).not.toContain('providers[0]');
});
