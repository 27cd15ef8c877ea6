/**
 * Settings of one launcher process (not of the pools it runs): where ZooKeeper is, TLS files,
 * plugin folders, web listener, tracing and logging. Loaded by the kernel with convict from
 * defaults, an optional settings file, `NODEPOOL_TS_*` environment variables and command-line
 * flags, in that order of precedence (last wins). Values left empty fall back to nodepool.yaml
 * (`zookeeper-servers`, `zookeeper-tls`, `zookeeper-timeout`, `webapp`).
 */
export interface LauncherSettings {
  /** Path of nodepool.yaml. */
  config: string;
  /** Path of the secure file, or '' for none. */
  secureConfig: string;
  /** Name written in component records; defaults to the short hostname. */
  hostname: string;
  /** Where the ZooKeeper session goes (values left empty fall back to nodepool.yaml). */
  zookeeper: {
    /** `host:port,host:port[/chroot]`; '' = take from nodepool.yaml. */
    hosts: string;
    /** Chroot path prefix, '' for none. Overrides a chroot in `hosts`. */
    chroot: string;
    /** Session timeout in seconds; 0 = take from nodepool.yaml (default 10). */
    sessionTimeout: number;
    /** Mutual TLS files (PEM paths); all three empty = nodepool.yaml `zookeeper-tls`, else plain TCP. */
    tls: { cert: string; key: string; ca: string };
  };
  /** Where plugins are looked for. */
  plugins: {
    /** Folders searched for plugins, in order, after the built-in folder (see {@link builtin}). */
    dirs: string[];
    /**
     * Whether the built-in plugin folder (static, metastatic, openstack) is searched first.
     * `--plugin-dirs` adds to it; false (`--no-builtin-plugins`) makes `dirs` the only folders.
     */
    builtin: boolean;
  };
  /** The web status API. */
  web: {
    /** Address the web status API listens on; '' = nodepool.yaml `webapp.listen_address`. */
    listenAddress: string;
    /** Port; -1 = nodepool.yaml `webapp.port` (default 8005); 0 = any free port. */
    port: number;
    /** False disables the web status API (`--no-web`, Nodepool's `--no-webapp`). */
    enabled: boolean;
  };
  /** OpenTelemetry traces. */
  tracing: {
    /** Where spans go: nowhere, stderr, an OTLP/HTTP collector, or memory (tests). */
    exporter: 'none' | 'console' | 'otlp' | 'memory';
    /** OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. */
    endpoint: string;
    /** `service.name` resource attribute of the spans. */
    serviceName: string;
  };
  /** Nodepool's statsd metrics (`STATSD_HOST`, `STATSD_PORT`, `STATSD_PREFIX`); off while host is ''. */
  statsd: { host: string; port: number; prefix: string };
  /** Log level and line format (`auto`: pretty on a terminal, JSON lines otherwise). */
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error'; format: 'auto' | 'json' | 'pretty' };
  /** Seconds the kernel waits for all services to stop. */
  stopTimeout: number;
}

/** Injection token for the kernel's {@link LauncherSettings}. */
export const LauncherSettings: unique symbol = Symbol.for('nodepool-ts.LauncherSettings');
