import os from 'node:os';
import path from 'node:path';
import type { Schema } from 'convict';
import type { LauncherSettings } from '../../plugins/launcher-settings';

/** The repository's plugin folder, where the built-in drivers live. */
export const DEFAULT_PLUGIN_DIR = path.resolve(__dirname, '../../../plugins');

// Format checks are functions in the schema rather than convict.addFormat, which would register
// them in convict's module-wide table.
function numberAtLeast(min: number, integer = false): (value: unknown) => void {
  return (value) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
      throw new Error(`must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
    }
  };
}

function port(value: unknown): void {
  numberAtLeast(-1, true)(value);
  if ((value as number) > 65535) throw new Error('must be a port number (0-65535), or -1');
}

/**
 * The convict schema of {@link LauncherSettings}. Every leaf can be set in the settings file (by
 * its dotted key), by an environment variable and by a command-line flag. Built per load (the
 * hostname default is read then), never shared.
 */
export function launcherSettingsSchema(): Schema<LauncherSettings> {
  return {
    config: { doc: 'Path of nodepool.yaml', format: String, default: '/etc/nodepool/nodepool.yaml', env: 'NODEPOOL_TS_CONFIG', arg: 'config' },
    secureConfig: { doc: 'Path of the secure file, or empty', format: String, default: '', env: 'NODEPOOL_TS_SECURE_CONFIG', arg: 'secure' },
    hostname: { doc: 'Name in component records', format: String, default: os.hostname().split('.')[0], env: 'NODEPOOL_TS_HOSTNAME', arg: 'hostname' },
    zookeeper: {
      hosts: { doc: 'host:port,... of the ensemble; empty = nodepool.yaml', format: String, default: '', env: 'NODEPOOL_TS_ZK_HOSTS', arg: 'zk-hosts' },
      chroot: { doc: 'chroot path; empty = none', format: String, default: '', env: 'NODEPOOL_TS_ZK_CHROOT', arg: 'zk-chroot' },
      sessionTimeout: {
        doc: 'session timeout in seconds; 0 = nodepool.yaml',
        format: numberAtLeast(0),
        default: 0,
        env: 'NODEPOOL_TS_ZK_SESSION_TIMEOUT',
        arg: 'zk-session-timeout',
      },
      tls: {
        cert: { doc: 'client certificate (PEM file)', format: String, default: '', env: 'NODEPOOL_TS_ZK_TLS_CERT', arg: 'zk-tls-cert' },
        key: { doc: 'client key (PEM file)', format: String, default: '', env: 'NODEPOOL_TS_ZK_TLS_KEY', arg: 'zk-tls-key' },
        ca: { doc: 'CA certificate (PEM file)', format: String, default: '', env: 'NODEPOOL_TS_ZK_TLS_CA', arg: 'zk-tls-ca' },
      },
    },
    plugins: {
      dirs: {
        doc: 'extra plugin folders (searched after the built-in one), comma-separated in the environment and on the command line',
        // Array (not a check function) so convict splits environment and flag values on commas.
        format: Array,
        default: [],
        env: 'NODEPOOL_TS_PLUGIN_DIRS',
        arg: 'plugin-dirs',
      },
      builtin: {
        doc: 'search the built-in plugin folder first; false makes plugins.dirs the only folders',
        format: Boolean,
        default: true,
        env: 'NODEPOOL_TS_BUILTIN_PLUGINS',
        arg: 'builtin-plugins',
      },
    },
    web: {
      listenAddress: { doc: 'listen address; empty = nodepool.yaml', format: String, default: '', env: 'NODEPOOL_TS_WEB_LISTEN_ADDRESS', arg: 'web-listen-address' },
      port: { doc: 'port; -1 = nodepool.yaml, 0 = any free port', format: port, default: -1, env: 'NODEPOOL_TS_WEB_PORT', arg: 'web-port' },
      enabled: { doc: 'serve the web status API', format: Boolean, default: true, env: 'NODEPOOL_TS_WEB_ENABLED', arg: 'web' },
    },
    tracing: {
      exporter: { doc: 'span exporter', format: ['none', 'console', 'otlp', 'memory'], default: 'none', env: 'NODEPOOL_TS_TRACING_EXPORTER', arg: 'tracing-exporter' },
      endpoint: { doc: 'OTLP/HTTP traces endpoint', format: String, default: '', env: 'NODEPOOL_TS_TRACING_ENDPOINT', arg: 'tracing-endpoint' },
      serviceName: { doc: 'service.name of spans', format: String, default: 'nodepool-launcher', env: 'NODEPOOL_TS_TRACING_SERVICE_NAME', arg: 'tracing-service-name' },
    },
    // Nodepool's own environment names, so a launcher keeps its statsd setup when replaced.
    statsd: {
      host: { doc: 'statsd host; empty = no statsd', format: String, default: '', env: 'STATSD_HOST', arg: 'statsd-host' },
      port: { doc: 'statsd UDP port', format: port, default: 8125, env: 'STATSD_PORT', arg: 'statsd-port' },
      prefix: { doc: 'prefix of every statsd name', format: String, default: '', env: 'STATSD_PREFIX', arg: 'statsd-prefix' },
    },
    log: {
      level: { doc: 'log level', format: ['trace', 'debug', 'info', 'warn', 'error'], default: 'info', env: 'NODEPOOL_TS_LOG_LEVEL', arg: 'log-level' },
      format: { doc: 'log format', format: ['auto', 'json', 'pretty'], default: 'auto', env: 'NODEPOOL_TS_LOG_FORMAT', arg: 'log-format' },
    },
    stopTimeout: { doc: 'seconds to wait for services to stop', format: numberAtLeast(0), default: 30, env: 'NODEPOOL_TS_STOP_TIMEOUT', arg: 'stop-timeout' },
  };
}

/** Dotted keys of the settings that hold file or folder paths (resolved against the settings file). */
export const PATH_KEYS = ['config', 'secureConfig', 'zookeeper.tls.cert', 'zookeeper.tls.key', 'zookeeper.tls.ca', 'plugins.dirs'];

/** Dotted keys of the boolean settings (their environment values are normalized). */
export const BOOLEAN_KEYS = ['web.enabled', 'plugins.builtin'];
