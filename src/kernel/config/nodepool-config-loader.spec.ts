import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatConfigError } from './config-error';
import { configFilesChanged, loadNodepoolConfig, type NodepoolConfigResult } from './nodepool-config-loader';
import { cloudDriver, plainDriver } from './test-drivers';

const drivers = [cloudDriver, plainDriver];

describe('loadNodepoolConfig', () => {
  let tmp: string;
  let file: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npconf-'));
    file = path.join(tmp, 'nodepool.yaml');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function load(text: string, env: NodeJS.ProcessEnv = {}, secure?: string): NodepoolConfigResult {
    fs.writeFileSync(file, text);
    let securePath: string | null = null;
    if (secure !== undefined) {
      securePath = path.join(tmp, 'secure.yaml');
      fs.writeFileSync(securePath, secure);
    }
    return loadNodepoolConfig(file, securePath, drivers, env, { sleep: () => undefined });
  }
  const messages = (r: NodepoolConfigResult): string[] => r.errors.map(formatConfigError);

  it('loads a minimal file with Nodepool defaults', () => {
    const r = load('labels: []\n');
    expect(r.errors).toEqual([]);
    expect(r.config).toMatchObject({
      file, secureFile: null, maxHoldAge: Infinity, zookeeperServers: [], zookeeperTls: null, zookeeperTimeout: 10,
      webapp: { port: 8005, listenAddress: '0.0.0.0' },
    });
    expect(r.config!.providers.size).toBe(0);
  });

  it('substitutes %(NODEPOOL_*) environment variables on the raw text, leaving other placeholders', () => {
    const r = load(
      'zookeeper-servers:\n  - host: zk\n    port: %(NODEPOOL_PORT)\nelements-dir: /x/%(HOME)/%(NODEPOOL_UNSET)\n',
      { NODEPOOL_PORT: '2182', HOME: '/root' },
    );
    expect(r.errors).toEqual([]);
    expect(r.config!.zookeeperServers).toEqual([{ host: 'zk', port: 2182, chroot: null }]);
  });

  it('retries a missing file 3 times, 0.5 s apart', () => {
    const waits: number[] = [];
    const missing = loadNodepoolConfig(path.join(tmp, 'nope.yaml'), null, drivers, {}, { sleep: (ms) => waits.push(ms) });
    expect(waits).toEqual([500, 500]);
    expect(messages(missing)).toEqual([`${path.join(tmp, 'nope.yaml')}: cannot read the file: file not found`]);
    expect(missing.config).toBeUndefined();

    const late = path.join(tmp, 'late.yaml');
    const appears = loadNodepoolConfig(late, null, drivers, {}, { sleep: () => fs.writeFileSync(late, 'labels: []\n') });
    expect(appears.errors).toEqual([]);
    expect(appears.config).toBeDefined();
  });

  it('reports YAML syntax errors with the line', () => {
    const r = load('labels:\n  - name: a\n  - [\n');
    expect(r.config).toBeUndefined();
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0].stage).toBe('yaml');
    expect(formatConfigError(r.errors[0])).toMatch(new RegExp(`^${file}: YAML parsing failed: .* at line 4, column 1$`));
  });

  it('rejects a file whose top level is not a mapping', () => {
    expect(messages(load(''))).toEqual([`${file}: expected a dictionary of settings: the file is empty`]);
    expect(messages(load('- a\n'))).toEqual([`${file}: expected a dictionary of settings: the top level is not a mapping`]);
  });

  it('is strict about unknown keys and names the key path', () => {
    const r = load('nothandled: 1\nlabels:\n  - name: a\n    min-ready: x\n    bogus: 2\n');
    expect(messages(r)).toEqual([
      `${file}: nothandled: extra keys not allowed`,
      `${file}: labels[0].min-ready: expected int, got str "x"`,
      `${file}: labels[0].bogus: extra keys not allowed`,
    ]);
    // Best effort: the label still loads, with the default for the broken key.
    expect(r.config!.labels.get('a')).toEqual({ name: 'a', 'min-ready': 0, 'max-ready-age': 0 });
  });

  it('wants a YAML float for zookeeper-timeout but still uses an int', () => {
    expect(load('zookeeper-timeout: 30.0\n').errors).toEqual([]);
    const r = load('zookeeper-timeout: 30\n');
    expect(messages(r)).toEqual([`${file}: zookeeper-timeout: expected float, got int 30 (write 30.0)`]);
    expect(r.config!.zookeeperTimeout).toBe(30);
  });

  it('defaults the ZooKeeper port to 2281 as Nodepool code does (docs say 2181)', () => {
    const r = load('zookeeper-servers:\n  - host: zk1\n  - host: zk2\n    port: 2181\n    chroot: /np\n');
    expect(r.config!.zookeeperServers).toEqual([
      { host: 'zk1', port: 2281, chroot: null },
      { host: 'zk2', port: 2181, chroot: '/np' },
    ]);
    expect(messages(load('zookeeper-servers:\n  - port: 1\n'))).toEqual([`${file}: zookeeper-servers[0].host: required key not provided`]);
  });

  it('requires all three zookeeper-tls files', () => {
    const r = load('zookeeper-tls:\n  cert: /c\n  key: /k\n');
    expect(messages(r)).toEqual([`${file}: zookeeper-tls.ca: required key not provided`]);
    expect(load('zookeeper-tls: {cert: /c, key: /k, ca: /a}\n').config!.zookeeperTls).toEqual({ cert: '/c', key: '/k', ca: '/a' });
  });

  it('maps tenant-resource-limits to resource names, unset = unlimited, custom keys passed through', () => {
    const r = load('tenant-resource-limits:\n  - tenant-name: t1\n    max-servers: 10\n    max-cores: 200\n    max-ram: 16000\n    max-volume-gb: 500\n    gpus: 4\n');
    expect(r.errors).toEqual([]);
    expect(r.config!.tenantLimits.get('t1')).toEqual({
      tenantName: 't1',
      limits: { instances: 10, cores: 200, ram: 16000, volumes: Infinity, 'volume-gb': 500, gpus: 4 },
    });
    expect(messages(load('tenant-resource-limits:\n  - max-servers: 1\n'))).toEqual([
      `${file}: tenant-resource-limits[0].tenant-name: required key not provided`,
    ]);
  });

  it('treats max-hold-age <= 0 or unset as infinite', () => {
    expect(load('max-hold-age: 3600\n').config!.maxHoldAge).toBe(3600);
    expect(load('max-hold-age: 0\n').config!.maxHoldAge).toBe(Infinity);
    expect(load('max-hold-age: -5\n').config!.maxHoldAge).toBe(Infinity);
    expect(load('max-hold-age:\n').config!.maxHoldAge).toBe(Infinity);
  });

  it('spells webapp listen_address with an underscore', () => {
    expect(load('webapp:\n  port: 9000\n  listen_address: 127.0.0.1\n').config!.webapp).toEqual({ port: 9000, listenAddress: '127.0.0.1' });
    expect(messages(load('webapp:\n  listen-address: 127.0.0.1\n'))).toEqual([`${file}: webapp.listen-address: extra keys not allowed`]);
  });

  describe('diskimages', () => {
    it('inherits from parents (scalars overridden, elements appended, env-vars merged), hides abstract images', () => {
      const r = load(`
diskimages:
  - name: child
    parent: base
    elements: [ubuntu]
    env-vars: {B: child}
    release: 22
  - name: base
    abstract: true
    username: admin
    elements: [vm]
    env-vars: {A: base, B: base}
`);
      expect(r.errors).toEqual([]);
      expect([...r.config!.diskimages.keys()]).toEqual(['child']);
      expect(r.config!.diskimages.get('child')).toMatchObject({
        name: 'child', parent: 'base', abstract: false, username: 'admin', 'python-path': 'auto', 'shell-type': null,
        pause: false, elements: ['vm', 'ubuntu'], 'env-vars': { A: 'base', B: 'child' }, release: '22',
      });
    });

    it('reports duplicate names, unknown parents and cycles', () => {
      const r = load(`
diskimages:
  - name: a
  - name: a
  - name: b
    parent: missing
  - name: c
    parent: d
  - name: d
    parent: c
`);
      expect(messages(r)).toEqual([
        `${file}: diskimages[1].name: diskimage a already defined`,
        `${file}: diskimages[2].parent: diskimage b has non-existent parent: missing`,
        `${file}: diskimages[4].parent: diskimage d has a parent cycle: c -> d -> c`,
      ]);
      expect([...r.config!.diskimages.keys()]).toEqual(['a', 'b', 'c', 'd']);
    });
  });

  describe('secure file', () => {
    const main = 'zookeeper-servers:\n  - host: public\ndiskimages:\n  - name: img\n    env-vars: {A: main, B: main}\n';

    it('replaces zookeeper-servers and zookeeper-tls and merges diskimage env-vars', () => {
      const r = load(main, {}, 'zookeeper-servers:\n  - host: secret\n    port: 2999\nzookeeper-tls: {cert: /c, key: /k, ca: /a}\ndiskimages:\n  - name: img\n    env-vars: {B: secret}\n');
      expect(r.errors).toEqual([]);
      expect(r.config!.secureFile).toBe(path.join(tmp, 'secure.yaml'));
      expect(r.config!.zookeeperServers).toEqual([{ host: 'secret', port: 2999, chroot: null }]);
      expect(r.config!.zookeeperTls).toEqual({ cert: '/c', key: '/k', ca: '/a' });
      expect(r.config!.diskimages.get('img')!['env-vars']).toEqual({ A: 'main', B: 'secret' });
      expect(r.stamps.map((s) => s.file)).toEqual([file, path.join(tmp, 'secure.yaml')]);
    });

    it('changes nothing when empty or when its server list is empty', () => {
      expect(load(main, {}, '').config!.zookeeperServers).toEqual([{ host: 'public', port: 2281, chroot: null }]);
      expect(load(main, {}, 'zookeeper-servers: []\n').config!.zookeeperServers).toEqual([{ host: 'public', port: 2281, chroot: null }]);
    });

    it('reports an unknown diskimage against the secure file', () => {
      const r = load(main, {}, 'diskimages:\n  - name: other\n    env-vars: {X: y}\n');
      expect(messages(r)).toEqual([`${path.join(tmp, 'secure.yaml')}: diskimages[0].name: unknown diskimage other`]);
      expect(r.config).toBeDefined();
    });

    it('gives no config when the secure file cannot be read', () => {
      fs.writeFileSync(file, main);
      const r = loadNodepoolConfig(file, path.join(tmp, 'missing.yaml'), drivers, {}, { sleep: () => undefined });
      expect(r.config).toBeUndefined();
      expect(messages(r)).toEqual([`${path.join(tmp, 'missing.yaml')}: cannot read the file: file not found`]);
    });
  });

  describe('providers', () => {
    const labels = 'labels:\n  - name: small\n  - name: big\n';

    it('validates each provider against its driver schema plus the common keys, and normalizes it', () => {
      const r = load(`${labels}
providers:
  - name: cloud1
    cloud: devstack
    rate: 2.5
    priority: 50
    pools:
      - name: p1
        max-servers: 5
        node-attributes: {key: value}
        labels:
          - {name: small, flavor-name: m1.small}
      - name: p2
        priority: 10
        labels:
          - {name: big, flavor-name: m1.big}
          - {name: small, flavor-name: m1.small}
`);
      expect(r.errors).toEqual([]);
      const p = r.config!.providers.get('cloud1')!;
      expect(p).toMatchObject({ name: 'cloud1', driver: 'openstack', maxConcurrency: -1, priority: 50, location: `${file}: providers[0]` });
      expect(p.raw).toMatchObject({ cloud: 'devstack', rate: 2.5, driver: 'openstack', 'max-concurrency': -1 });
      expect(p.pools.map((x) => [x.name, x.maxServers, x.priority, x.nodeAttributes, x.labels])).toEqual([
        ['p1', 5, 50, { key: 'value' }, ['small']],
        ['p2', Infinity, 10, null, ['big', 'small']],
      ]);
    });

    it('falls back to priority 100 and names every error with file and key path', () => {
      const r = load(`${labels}
providers:
  - name: ok
    driver: plain
    pools:
      - name: main
        labels: [{name: small}]
  - name: bad
    driver: plain
    max-concurrency: many
    pools:
      - labels: [{}]
        extra: 1
`);
      expect(r.config!.providers.get('ok')!.pools[0].priority).toBe(100);
      expect(messages(r)).toEqual([
        `${file}: providers[1].max-concurrency: expected int, got str "many"`,
        `${file}: providers[1].pools[0].labels[0].name: required key not provided`,
        `${file}: providers[1].pools[0].extra: extra keys not allowed`,
        `${file}: providers[1].pools[0].name: required key not provided`,
      ]);
    });

    it('reports an unknown driver and keeps the good providers', () => {
      const r = load(`${labels}
providers:
  - name: good
    cloud: devstack
  - name: weird
    driver: nosuch
  - name: nocloud
  - name: good2
    driver: plain
`);
      expect(messages(r)).toEqual([
        `${file}: providers[1].driver: unknown driver "nosuch"`,
        `${file}: providers[2].cloud: required key not provided`,
      ]);
      expect([...r.config!.providers.keys()]).toEqual(['good', 'good2']);
    });

    it('requires pool labels to be top-level labels (all drivers)', () => {
      const r = load(`${labels}
providers:
  - name: p
    driver: plain
    pools:
      - name: main
        labels: [{name: small}, {name: unknown}]
  - name: q
    driver: plain
    pools:
      - name: main
        labels: [{name: big}]
`);
      expect(messages(r)).toEqual([`${file}: providers[0].pools[0]: label unknown in provider p not in top-level labels`]);
      expect([...r.config!.providers.keys()]).toEqual(['q']);
    });

    it('prefixes driver cross-check messages with the provider path and drops that provider', () => {
      const r = load(`${labels}
providers:
  - name: reject-me
    driver: plain
  - name: fine
    driver: plain
`);
      expect(messages(r)).toEqual([
        `${file}: providers[0].pools[0].labels[0].name: rejected by the driver`,
        `${file}: providers[0]: no path here`,
      ]);
      expect([...r.config!.providers.keys()]).toEqual(['fine']);
    });

    it('rejects duplicate provider and pool names', () => {
      const r = load(`${labels}
providers:
  - {name: a, driver: plain}
  - {name: a, driver: plain}
  - name: b
    driver: plain
    pools: [{name: x}, {name: x}]
`);
      expect(messages(r)).toEqual([
        `${file}: providers[1].name: provider a already defined`,
        `${file}: providers[2].pools[1].name: pool x already defined in provider b`,
      ]);
      expect([...r.config!.providers.keys()]).toEqual(['a']);
    });

    it('checks driver float keys on the YAML as written', () => {
      const r = load('providers:\n  - name: c\n    cloud: x\n    rate: 2\n');
      expect(messages(r)).toEqual([`${file}: providers[0].rate: expected float, got int 2 (write 2.0)`]);
    });

    it('rejects a driver whose schema is not an SDK object schema', () => {
      const odd = { ...plainDriver, name: 'odd', providerSchema: {} as never };
      fs.writeFileSync(file, 'providers:\n  - {name: a, driver: odd}\n');
      const r = loadNodepoolConfig(file, null, [odd], {});
      expect(messages(r)).toEqual([`${file}: providers[0].driver: driver "odd" has no provider schema built with the SDK's s.object()`]);
    });
  });

  it('tells when the files changed', () => {
    const r = load('labels: []\n');
    expect(configFilesChanged(r.stamps)).toBe(false);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file, later, later);
    expect(configFilesChanged(r.stamps)).toBe(true);
    fs.rmSync(file);
    expect(configFilesChanged(r.stamps)).toBe(true);
  });

  describe('runtime (the launcher) vs config-validate', () => {
    const text = 'labels:\n  - name: a\nproviders:\n  - name: p1\n    driver: plain\n    rate: 1\n    pools:\n      - name: main\n        bogus: true\n        labels:\n          - name: a\n  - name: p2\n    driver: plain\n';
    function loadRuntime(body: string): NodepoolConfigResult {
      fs.writeFileSync(file, body);
      return loadNodepoolConfig(file, null, drivers, {}, { sleep: () => undefined, runtime: true });
    }

    it('runs a provider with keys only config-validate rejects, naming each key as ignored', () => {
      const r = loadRuntime(text);
      expect(r.config!.providers.has('p1')).toBe(true);
      expect(r.config!.providers.get('p1')!.raw).not.toHaveProperty('rate');
      expect(messages(r)).toEqual([
        `${file}: providers[0].rate: extra keys not allowed (ignored: the provider runs without it)`,
        `${file}: providers[0].pools[0].bogus: extra keys not allowed (ignored: the provider runs without it)`,
      ]);
      expect(r.errors.every((e) => e.severity === 'warning')).toBe(true);
      // config-validate's way: the same file is an error and the provider does not load.
      const strict = load(text);
      expect(strict.config!.providers.has('p1')).toBe(false);
      expect(strict.errors.some((e) => e.severity === 'warning')).toBe(false);
    });

    it('keeps the last of duplicated keys like PyYAML, reporting it; config-validate rejects the file', () => {
      const dup = 'labels:\n  - name: a\n    min-ready: 1\n    min-ready: 3\nproviders: []\n';
      const r = loadRuntime(dup);
      expect(r.config!.labels.get('a')!['min-ready']).toBe(3);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatchObject({ stage: 'yaml', severity: 'warning' });
      expect(r.errors[0].message).toMatch(/duplicated mapping key.*the last value is used/);
      const strict = load(dup);
      expect(strict.config).toBeUndefined();
      expect(strict.errors[0].message).toMatch(/YAML parsing failed: duplicated mapping key/);
    });

    it('still leaves out a provider whose known keys are wrong', () => {
      const r = loadRuntime('labels: []\nproviders:\n  - name: p1\n    driver: plain\n    max-concurrency: lots\n');
      expect(r.config!.providers.has('p1')).toBe(false);
      expect(messages(r)).toEqual([`${file}: providers[0].max-concurrency: expected int, got str "lots"`]);
    });
  });
});
