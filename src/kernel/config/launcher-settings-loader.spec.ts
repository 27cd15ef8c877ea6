import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LauncherSettingsError, loadLauncherSettings } from './launcher-settings-loader';
import { DEFAULT_PLUGIN_DIR } from './launcher-settings-schema';

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof LauncherSettingsError) return err.issues;
    throw err;
  }
  throw new Error('expected a LauncherSettingsError');
}

describe('loadLauncherSettings', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'settings-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('has defaults and reads nothing from the process', () => {
    const before = { ...process.env };
    process.env.NODEPOOL_TS_ZK_HOSTS = 'from-process:2181';
    try {
      const settings = loadLauncherSettings();
      expect(settings.zookeeper.hosts).toBe('');
      expect(settings.config).toBe('/etc/nodepool/nodepool.yaml');
      expect(settings.plugins).toEqual({ dirs: [], builtin: true });
      expect(fs.existsSync(path.join(DEFAULT_PLUGIN_DIR, 'static', 'package.json'))).toBe(true);
      expect(settings.web).toEqual({ listenAddress: '', port: -1, enabled: true });
      expect(settings.tracing.exporter).toBe('none');
      expect(settings.log).toEqual({ level: 'info', format: 'auto' });
      expect(settings.stopTimeout).toBe(30);
      expect(settings.hostname).toBe(os.hostname().split('.')[0]);
    } finally {
      process.env = before;
    }
  });

  it('takes NODEPOOL_TS_* environment variables', () => {
    const settings = loadLauncherSettings({
      env: {
        NODEPOOL_TS_ZK_HOSTS: 'zk1:2281,zk2:2281',
        NODEPOOL_TS_ZK_TLS_CERT: '/tls/c.pem',
        NODEPOOL_TS_ZK_SESSION_TIMEOUT: '12.5',
        NODEPOOL_TS_PLUGIN_DIRS: '/a, /b,,',
        NODEPOOL_TS_WEB_PORT: '8080',
        NODEPOOL_TS_WEB_ENABLED: 'no',
        NODEPOOL_TS_TRACING_EXPORTER: 'otlp',
        NODEPOOL_TS_TRACING_ENDPOINT: 'http://127.0.0.1:4318/v1/traces',
        NODEPOOL_TS_LOG_LEVEL: 'debug',
      },
    });
    expect(settings.zookeeper).toMatchObject({ hosts: 'zk1:2281,zk2:2281', sessionTimeout: 12.5, tls: { cert: '/tls/c.pem', key: '', ca: '' } });
    expect(settings.plugins.dirs).toEqual(['/a', '/b']);
    expect(settings.plugins.builtin).toBe(true);
    expect(settings.web).toEqual({ listenAddress: '', port: 8080, enabled: false });
    expect(settings.tracing).toMatchObject({ exporter: 'otlp', endpoint: 'http://127.0.0.1:4318/v1/traces' });
    expect(settings.log.level).toBe('debug');
  });

  it('--plugin-dirs adds to the built-in folder; --no-builtin-plugins or NODEPOOL_TS_BUILTIN_PLUGINS=no leaves it out', () => {
    expect(loadLauncherSettings({ args: ['--plugin-dirs', '/x'] }).plugins).toEqual({ dirs: ['/x'], builtin: true });
    expect(loadLauncherSettings({ args: ['--plugin-dirs', '/x', '--no-builtin-plugins'] }).plugins).toEqual({ dirs: ['/x'], builtin: false });
    expect(loadLauncherSettings({ env: { NODEPOOL_TS_BUILTIN_PLUGINS: 'no' } }).plugins.builtin).toBe(false);
  });

  it('takes Nodepool\'s STATSD_* environment variables; statsd is off by default', () => {
    expect(loadLauncherSettings({ env: {} }).statsd).toEqual({ host: '', port: 8125, prefix: '' });
    const settings = loadLauncherSettings({ env: { STATSD_HOST: 'graphite.example', STATSD_PORT: '9125', STATSD_PREFIX: 'ci' } });
    expect(settings.statsd).toEqual({ host: 'graphite.example', port: 9125, prefix: 'ci' });
    expect(loadLauncherSettings({ env: { STATSD_HOST: 'a' }, args: ['--statsd-host', 'b'] }).statsd.host).toBe('b');
  });

  it('applies file < env < flags < overrides', () => {
    const file = path.join(tmp, 'settings.yaml');
    fs.writeFileSync(file, 'zookeeper:\n  hosts: file:1\n  chroot: /file\nlog:\n  level: warn\nweb:\n  port: 1000\n');
    const settings = loadLauncherSettings({
      file,
      env: { NODEPOOL_TS_ZK_HOSTS: 'env:1', NODEPOOL_TS_LOG_LEVEL: 'error', NODEPOOL_TS_WEB_PORT: '2000' },
      args: ['--zk-hosts', 'flag:1', '--web-port=3000', '--no-web'],
      overrides: { web: { port: 0 } },
    });
    expect(settings.zookeeper.hosts).toBe('flag:1');
    expect(settings.zookeeper.chroot).toBe('/file');
    expect(settings.log.level).toBe('error');
    expect(settings.web).toEqual({ listenAddress: '', port: 0, enabled: false });
  });

  it('finds the settings file through --settings or NODEPOOL_TS_SETTINGS, resolving relative paths next to it', () => {
    const file = path.join(tmp, 'settings.json');
    fs.writeFileSync(file, JSON.stringify({ config: 'nodepool.yaml', plugins: { dirs: ['plugins', '/abs'] } }));
    const viaFlag = loadLauncherSettings({ args: ['--settings', file] });
    expect(viaFlag.config).toBe(path.join(tmp, 'nodepool.yaml'));
    expect(viaFlag.plugins.dirs).toEqual([path.join(tmp, 'plugins'), '/abs']);
    expect(loadLauncherSettings({ env: { NODEPOOL_TS_SETTINGS: file } }).config).toBe(path.join(tmp, 'nodepool.yaml'));
  });

  it('lets two loads differ (no shared state)', () => {
    const a = loadLauncherSettings({ env: { NODEPOOL_TS_ZK_HOSTS: 'a:1' } });
    const b = loadLauncherSettings({ env: { NODEPOOL_TS_ZK_HOSTS: 'b:1' } });
    expect([a.zookeeper.hosts, b.zookeeper.hosts]).toEqual(['a:1', 'b:1']);
  });

  it('names the key and the source of every invalid value', () => {
    const file = path.join(tmp, 's.yaml');
    fs.writeFileSync(file, 'log:\n  format: fancy\nbogus: 1\n');
    const issues = issuesOf(() =>
      loadLauncherSettings({
        file,
        env: { NODEPOOL_TS_WEB_PORT: '70000', NODEPOOL_TS_WEB_ENABLED: 'maybe' },
        args: ['--tracing-exporter', 'jaeger'],
        overrides: { stopTimeout: -1 },
      }),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^web\.port \(from env NODEPOOL_TS_WEB_PORT\): must be a port number/),
        expect.stringMatching(/^web\.enabled \(from env NODEPOOL_TS_WEB_ENABLED\): must be true\/false, yes\/no, on\/off or 1\/0: value was "maybe"$/),
        expect.stringMatching(/^tracing\.exporter \(from flag --tracing-exporter\): must be one of the possible values/),
        expect.stringMatching(new RegExp(`^log\\.format \\(from file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): must be one of`)),
        expect.stringMatching(/^stopTimeout \(from overrides\): must be a number >= 0/),
        expect.stringMatching(/^bogus \(from file .*\): configuration param 'bogus' not declared in the schema/),
      ]),
    );
  });

  it('reports an unreadable or malformed settings file', () => {
    expect(issuesOf(() => loadLauncherSettings({ file: path.join(tmp, 'missing.yaml') }))[0]).toMatch(/^settings file .*missing\.yaml: ENOENT/);
    const bad = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(bad, '- a\n- b\n');
    expect(issuesOf(() => loadLauncherSettings({ file: bad }))).toEqual([`settings file ${bad}: expected a mapping of settings`]);
  });
});
