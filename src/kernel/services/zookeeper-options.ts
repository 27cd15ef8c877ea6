import type { LauncherSettings } from '../../plugins/launcher-settings';
import type { NodepoolConfig } from '../../plugins/nodepool-config';
import type { ZkClientOptions } from '../../zk/zk-client';

/** Nodepool's default session timeout, seconds (spec §0). */
const DEFAULT_SESSION_TIMEOUT = 10;

/** `host:port` with IPv6 literals in brackets, as Nodepool builds it (spec drivers-config §1.2). */
function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The ZooKeeper connection of a launcher: launcher settings win, nodepool.yaml fills what they
 * leave empty (`zookeeper-servers`, `zookeeper-tls`, `zookeeper-timeout`). Returns undefined when
 * neither names a server.
 */
export function resolveZooKeeperOptions(
  settings: LauncherSettings,
  config?: Pick<NodepoolConfig, 'zookeeperServers' | 'zookeeperTls' | 'zookeeperTimeout'>,
): ZkClientOptions | undefined {
  let hosts = settings.zookeeper.hosts;
  let chroot = settings.zookeeper.chroot || undefined;
  if (!hosts && config && config.zookeeperServers.length > 0) {
    hosts = config.zookeeperServers.map((s) => hostPort(s.host, s.port)).join(',');
    chroot ??= config.zookeeperServers.find((s) => s.chroot)?.chroot ?? undefined;
  }
  if (!hosts) return undefined;
  const tlsSettings = settings.zookeeper.tls;
  const tls = tlsSettings.ca
    ? { cert: tlsSettings.cert || undefined, key: tlsSettings.key || undefined, ca: tlsSettings.ca }
    : config?.zookeeperTls ?? undefined;
  const timeout = settings.zookeeper.sessionTimeout || config?.zookeeperTimeout || DEFAULT_SESSION_TIMEOUT;
  return { hosts, chroot, tls, sessionTimeout: Math.round(timeout * 1000) };
}
