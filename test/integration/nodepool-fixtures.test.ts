/**
 * Nodepool's own test fixtures (`nodepool/tests/fixtures/*.yaml` of the peer tarball,
 * ../shared/peers) that use only the static, metastatic and openstack drivers (or none), loaded
 * the way our launcher loads nodepool.yaml (every provider Nodepool's launcher runs must run here
 * too), and validated by our `config-validate` and Nodepool's, whose pass/fail verdicts must agree.
 * Template fields (`{images_dir}`, `{zookeeper_port}`, ...) are filled as Nodepool's tests do.
 * The examples of Nodepool's driver docs (`doc/source/{static,metastatic,openstack,configuration}.rst`)
 * are loaded by both launchers' config loaders, which must run the same providers, pools and labels.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { formatConfigError } from '../../src/kernel/config/config-error';
import { runConfigValidate } from '../../src/kernel/config/config-validate';
import { loadNodepoolConfig } from '../../src/kernel/config/nodepool-config-loader';
import { Kernel } from '../../src/kernel/kernel';
import { detectPeer, preparePeer } from '../support/nodepool-peer';
import { testSettings } from '../support/test-settings';

const peer = detectPeer();
if (!peer.available) console.warn(`Nodepool fixture corpus skipped: ${peer.reason}`);
const describePeer = peer.available ? describe : describe.skip;

/** Fixtures Nodepool's launcher runs but we do not yet, with the reason (docs/compatibility.md). */
const KNOWN_GAPS: Record<string, string> = {};

/**
 * Fixtures on which our `config-validate` and Nodepool's give different verdicts on purpose, with
 * the reason (file name, or `config_validate/<name>`).
 */
const VERDICT_DIFFERENCES: Record<string, string> = {};

const DRIVERS = [undefined, 'static', 'metastatic', 'openstack'];

/** Fills Nodepool's test template fields (`{zookeeper_port}` → 2181, others → their name). */
function fillTemplate(text: string): string {
  return text.replace(/\{([a-z_]+)\}/g, (_m, key: string) => (key.endsWith('port') ? '2181' : key));
}

/** Whether `text` is YAML whose providers (if any) all use a driver we have. */
function ours(text: string): boolean {
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch {
    return true; // a YAML error is a verdict too
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return true;
  const providers = (doc as { providers?: unknown }).providers;
  return !Array.isArray(providers) || providers.every((p) => DRIVERS.includes((p as { driver?: string } | null)?.driver));
}

/** Nodepool's ConfigValidator on each file, in one Python process: file → exit code. */
async function pythonVerdicts(sourceRoot: string, files: string[]): Promise<Record<string, number | string>> {
  const script = [
    'import json, logging, sys',
    'logging.disable(logging.CRITICAL)',
    'from nodepool.cmd.config_validator import ConfigValidator',
    'out = {}',
    'for f in sys.argv[1:]:',
    '    try:',
    '        out[f] = ConfigValidator(f).validate()',
    '    except Exception as e:',
    "        out[f] = 'crash: %r' % e",
    'print(json.dumps(out))',
  ].join('\n');
  const env = { ...process.env, PBR_VERSION: '1.0.0', PYTHONPATH: sourceRoot };
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('/usr/bin/python3', ['-c', script, ...files], { cwd: sourceRoot, env, maxBuffer: 1 << 24, timeout: 60_000 }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
    );
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, number | string>;
}

describePeer("Nodepool's fixtures with static, metastatic and openstack providers", () => {
  it('load with every provider running, at launcher runtime', async () => {
    const dir = path.join(preparePeer((peer as { tarball: string }).tarball), 'nodepool/tests/fixtures');
    const kernel = await Kernel.create({ settings: testSettings({ tracing: { exporter: 'none', endpoint: '', serviceName: 'corpus' } }) });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fixtures-'));
    const problems: string[] = [];
    let checked = 0;
    try {
      for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
        const text = fillTemplate(fs.readFileSync(path.join(dir, name), 'utf8'));
        let doc: { providers?: Array<{ name?: string; driver?: string }> } | undefined;
        try {
          doc = yaml.load(text) as typeof doc;
        } catch {
          continue; // not a nodepool.yaml (Nodepool's own fixtures include other files)
        }
        const providers = doc?.providers ?? [];
        if (providers.length === 0 || !providers.every((p) => [undefined, 'static', 'metastatic', 'openstack'].includes(p.driver))) continue;
        checked++;
        const file = path.join(tmp, name);
        fs.writeFileSync(file, text);
        const result = loadNodepoolConfig(file, null, kernel.drivers.all(), {}, { runtime: true, sleep: () => undefined });
        const running = [...(result.config?.providers.keys() ?? [])];
        const missing = providers.map((p) => String(p.name)).filter((n) => !running.includes(n));
        const errors = result.errors.filter((e) => e.severity !== 'warning').map(formatConfigError);
        if ((missing.length > 0 || errors.length > 0) !== (name in KNOWN_GAPS)) problems.push(`${name}: not running ${JSON.stringify(missing)}; ${errors.join(' | ')}`);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    expect(checked).toBeGreaterThanOrEqual(15);
    expect(problems).toEqual([]);
  });

  it("config-validate verdicts agree with Nodepool's validator", async () => {
    const root = preparePeer((peer as { tarball: string }).tarball);
    const dir = path.join(root, 'nodepool/tests/fixtures');
    const kernel = await Kernel.create({ settings: testSettings({ tracing: { exporter: 'none', endpoint: '', serviceName: 'corpus' } }) });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fixtures-validate-'));
    try {
      const files = new Map<string, string>();
      for (const sub of ['', 'config_validate']) {
        fs.mkdirSync(path.join(tmp, sub), { recursive: true });
        for (const name of fs.readdirSync(path.join(dir, sub)).filter((f) => f.endsWith('.yaml')).sort()) {
          const text = fillTemplate(fs.readFileSync(path.join(dir, sub, name), 'utf8'));
          if (!ours(text)) continue;
          const file = path.join(tmp, sub, name);
          fs.writeFileSync(file, text);
          files.set(path.join(sub, name), file);
        }
      }
      const theirs = await pythonVerdicts(root, [...files.values()]);
      const disagreements: string[] = [];
      for (const [name, file] of files) {
        const lines: string[] = [];
        const mine = runConfigValidate({ file, drivers: kernel.drivers.all(), log: (line) => lines.push(line), env: {} });
        const verdict = (code: number | string): string => (code === 0 ? 'pass' : code === 1 ? 'fail' : String(code));
        if (verdict(mine) !== verdict(theirs[file]) && !(name in VERDICT_DIFFERENCES)) {
          disagreements.push(`${name}: ours ${verdict(mine)}, Nodepool ${verdict(theirs[file])}${mine ? `: ${lines.slice(1).join(' | ')}` : ''}`);
        }
        if (verdict(mine) === verdict(theirs[file]) && name in VERDICT_DIFFERENCES) disagreements.push(`${name}: listed as a difference but both ${verdict(mine)}`);
      }
      expect(files.size).toBeGreaterThanOrEqual(25);
      expect(disagreements).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("the docs' examples run the same providers, pools and labels as in Nodepool's launcher", async () => {
    const root = preparePeer((peer as { tarball: string }).tarball);
    const kernel = await Kernel.create({ settings: testSettings({ tracing: { exporter: 'none', endpoint: '', serviceName: 'corpus' } }) });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-examples-'));
    try {
      const files = new Map<string, string>();
      for (const page of ['static', 'metastatic', 'openstack', 'configuration']) {
        const blocks = yamlBlocks(fs.readFileSync(path.join(root, 'doc/source', `${page}.rst`), 'utf8'));
        blocks.forEach((text, i) => {
          const completed = asNodepoolYaml(text, page);
          if (completed === undefined) return;
          const file = path.join(tmp, `${page}-${i}.yaml`);
          fs.writeFileSync(file, completed);
          files.set(`${page}.rst block ${i + 1}`, file);
        });
      }
      // openstacksdk looks the examples' cloud up when Nodepool loads the file (ours when it connects).
      const clouds = path.join(tmp, 'clouds.yaml');
      const auth = { auth_url: 'http://127.0.0.1:5000/v3', username: 'u', password: 'p', project_name: 'p' };
      fs.writeFileSync(clouds, yaml.dump({ clouds: { example: { auth, regions: ['region1'] }, example2: { auth } } }));
      const theirs = await pythonProviders(root, [...files.values()], clouds);
      const differences: string[] = [];
      for (const [name, file] of files) {
        const result = loadNodepoolConfig(file, null, kernel.drivers.all(), {}, { runtime: true, sleep: () => undefined });
        const mine: ProviderShape = {};
        for (const [provider, config] of result.config?.providers ?? []) {
          mine[provider] = Object.fromEntries(config.pools.map((p) => [p.name, [...p.labels].sort()]));
        }
        if (JSON.stringify(mine) !== JSON.stringify(theirs[file])) {
          differences.push(`${name}: ours ${JSON.stringify(mine)}, Nodepool ${JSON.stringify(theirs[file])}; ${result.errors.map(formatConfigError).join(' | ')}`);
        }
      }
      // static 1, metastatic 1, openstack 6 (a provider and fragments), configuration 4 fragments.
      expect(files.size).toBeGreaterThanOrEqual(10);
      expect(differences).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

/** provider → pool → sorted label names. */
type ProviderShape = Record<string, Record<string, string[]>>;

/** The `.. code-block:: yaml` bodies of a reStructuredText page, dedented. */
function yamlBlocks(rst: string): string[] {
  const lines = rst.split('\n');
  const blocks: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)\.\. code-block:: yaml\s*$/.exec(lines[i]);
    if (!m) continue;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j];
      if (line.trim() !== '' && line.search(/\S/) <= m[1].length) break;
      body.push(line);
    }
    const indent = Math.min(...body.filter((l) => l.trim() !== '').map((l) => l.search(/\S/)));
    blocks.push(body.map((l) => l.slice(indent)).join('\n').trim());
    i = j - 1;
  }
  return blocks;
}

/**
 * A docs example completed into a whole nodepool.yaml. Whole `providers` examples are taken as
 * they are; the fragments of a provider page (`pools`, a pool's `labels`, `diskimages`,
 * `cloud-images`) go into a provider of that driver, top-level fragments of the configuration
 * page beside a one-host static provider; the labels the pools name are declared and the
 * provider `diskimages` get their top-level entries, as a real file has them.
 */
function asNodepoolYaml(text: string, page: string): string | undefined {
  let doc: Record<string, unknown>;
  try {
    doc = yaml.load(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const driver = page === 'configuration' ? 'static' : page;
  if (!Array.isArray(doc.providers)) {
    const provider: Record<string, unknown> = { name: `doc-${driver}`, driver };
    if (driver === 'openstack') provider.cloud = 'example';
    if (page === 'configuration') {
      if (!['labels', 'diskimages', 'tenant-resource-limits', 'zookeeper-servers', 'webapp'].some((k) => k in doc)) return undefined;
      const label = (doc.labels as Array<{ name?: string }> | undefined)?.[0]?.name ?? 'doc-label';
      provider.pools = [{ name: 'main', nodes: [{ name: 'host.example.com', labels: label }] }];
    } else if (Array.isArray(doc.pools)) {
      provider.pools = doc.pools;
      delete doc.pools;
    } else if (Array.isArray(doc.labels)) {
      provider.pools = [{ name: 'main', labels: doc.labels }];
      delete doc.labels;
    } else if (Array.isArray(doc.diskimages) || Array.isArray(doc['cloud-images'])) {
      for (const key of ['diskimages', 'cloud-images']) {
        if (key in doc) {
          provider[key] = doc[key];
          delete doc[key];
        }
      }
      provider.pools = [{ name: 'main', labels: [] }];
    } else {
      return undefined;
    }
    doc.providers = [provider];
  }
  const providers = doc.providers as Array<Record<string, unknown>>;
  if (providers.length === 0 || !providers.every((p) => ['static', 'metastatic', 'openstack'].includes(String(p?.driver ?? 'openstack')))) return undefined;
  const labels = new Set<string>();
  const images = new Set<string>();
  for (const provider of providers) {
    for (const image of (provider.diskimages as Array<{ name?: string }> | undefined) ?? []) if (image?.name) images.add(image.name);
    for (const pool of (provider.pools as Array<Record<string, unknown>> | undefined) ?? []) {
      for (const label of (pool.labels as Array<{ name?: string; diskimage?: string }> | undefined) ?? []) {
        if (label?.name) labels.add(label.name);
        if (label?.diskimage) images.add(label.diskimage);
      }
      for (const node of (pool.nodes as Array<{ labels?: string | string[] }> | undefined) ?? []) {
        for (const l of [node?.labels ?? []].flat()) labels.add(l);
      }
    }
  }
  const declared = new Set(((doc.labels as Array<{ name?: string }> | undefined) ?? []).map((l) => l.name));
  doc.labels = [...((doc.labels as unknown[]) ?? []), ...[...labels].filter((l) => !declared.has(l)).map((name) => ({ name }))];
  const known = new Set(((doc.diskimages as Array<{ name?: string }> | undefined) ?? []).map((d) => d.name));
  const missing = [...images].filter((i) => !known.has(i)).map((name) => ({ name }));
  if (missing.length > 0) doc.diskimages = [...((doc.diskimages as unknown[]) ?? []), ...missing];
  return yaml.dump(doc);
}

/** Nodepool's own config loader on each file, in one Python process: provider → pool → labels. */
async function pythonProviders(sourceRoot: string, files: string[], cloudsFile: string): Promise<Record<string, ProviderShape | string>> {
  const script = [
    'import json, logging, sys',
    'logging.disable(logging.CRITICAL)',
    'from nodepool import config as npc',
    'out = {}',
    'for f in sys.argv[1:]:',
    '    try:',
    '        c = npc.loadConfig(f, env={})',
    '        out[f] = {n: {pn: sorted(pool.labels) for pn, pool in p.pools.items()} for n, p in c.providers.items()}',
    '    except Exception as e:',
    "        out[f] = 'crash: %r' % e",
    'print(json.dumps(out, sort_keys=True))',
  ].join('\n');
  const env = { ...process.env, PBR_VERSION: '1.0.0', PYTHONPATH: sourceRoot, OS_CLIENT_CONFIG_FILE: cloudsFile };
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('/usr/bin/python3', ['-c', script, ...files], { cwd: sourceRoot, env, maxBuffer: 1 << 24, timeout: 60_000 }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
    );
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, ProviderShape | string>;
}
