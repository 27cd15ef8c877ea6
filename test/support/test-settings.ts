import os from 'node:os';
import path from 'node:path';
import type { LauncherSettings } from '../../src/plugins/launcher-settings';

/** The repository's plugin folder. */
export const REPO_PLUGINS = path.resolve(__dirname, '../../plugins');

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

/** Launcher settings for tests: quiet logs, in-memory traces, the repo's plugins. */
export function testSettings(overrides: DeepPartial<LauncherSettings> = {}): LauncherSettings {
  const base: LauncherSettings = {
    config: '',
    secureConfig: '',
    hostname: os.hostname().split('.')[0],
    zookeeper: { hosts: '', chroot: '', sessionTimeout: 10, tls: { cert: '', key: '', ca: '' } },
    // Explicit folders, so a test loads exactly the plugins it names.
    plugins: { dirs: [REPO_PLUGINS], builtin: false },
    web: { listenAddress: '127.0.0.1', port: 0, enabled: false },
    tracing: { exporter: 'memory', endpoint: '', serviceName: 'nodepool-ts-test' },
    statsd: { host: '', port: 8125, prefix: '' },
    log: { level: 'warn', format: 'json' },
    stopTimeout: 5,
  };
  return {
    ...base,
    ...overrides,
    zookeeper: { ...base.zookeeper, ...overrides.zookeeper, tls: { ...base.zookeeper.tls, ...overrides.zookeeper?.tls } },
    plugins: { ...base.plugins, ...overrides.plugins } as LauncherSettings['plugins'],
    web: { ...base.web, ...overrides.web },
    tracing: { ...base.tracing, ...overrides.tracing },
    statsd: { ...base.statsd, ...overrides.statsd },
    log: { ...base.log, ...overrides.log },
  } as LauncherSettings;
}
