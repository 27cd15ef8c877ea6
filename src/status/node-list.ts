/** Nodepool's node listing (`status.py` node_list, STS:111-193) for the CLI and the web app. */
import type { Node } from '../zk/models/node';
import type { StatusColumn, StatusRow } from './status-table';

/** Columns of `nodepool list`. */
export const NODE_LIST_COLUMNS: readonly StatusColumn[] = [
  { key: 'id', header: 'ID' },
  { key: 'provider', header: 'Provider' },
  { key: 'label', header: 'Label' },
  { key: 'server_id', header: 'Server ID' },
  { key: 'public_ipv4', header: 'Public IPv4' },
  { key: 'ipv6', header: 'IPv6' },
  { key: 'state', header: 'State' },
  { key: 'age', header: 'Age' },
  { key: 'locked', header: 'Locked' },
];

/** Columns of `nodepool list --detail` and of the web app's `/node-list`. */
export const NODE_LIST_DETAIL_COLUMNS: readonly StatusColumn[] = [
  ...NODE_LIST_COLUMNS,
  { key: 'pool', header: 'Pool' },
  { key: 'hostname', header: 'Hostname' },
  { key: 'private_ipv4', header: 'Private IPv4' },
  { key: 'AZ', header: 'AZ' },
  { key: 'username', header: 'Username' },
  { key: 'connection_port', header: 'Port' },
  { key: 'launcher', header: 'Launcher' },
  { key: 'allocated_to', header: 'Allocated To' },
  { key: 'hold_job', header: 'Hold Job' },
  { key: 'comment', header: 'Comment' },
  { key: 'user_data', header: 'User Data' },
  { key: 'driver_data', header: 'Driver Data' },
];

/**
 * Nodepool's `age()`: time since `timestamp` (Unix s) as `DD:HH:MM:SS`, with Python's floor
 * `divmod` and `%02d` truncation (so clock skew gives e.g. `-1:23:59:59`, as Nodepool prints).
 */
export function formatAge(timestamp: number, nowSeconds: number = Date.now() / 1000): string {
  const divmod = (a: number, b: number): [number, number] => {
    const q = Math.floor(a / b);
    return [q, a - q * b];
  };
  const [m0, s] = divmod(nowSeconds - timestamp, 60);
  const [h0, m] = divmod(m0, 60);
  const [d, h] = divmod(h0, 24);
  const two = (n: number): string => {
    const t = Math.trunc(n);
    return t < 0 ? `-${String(-t).padStart(1, '0')}` : String(t).padStart(2, '0');
  };
  return `${two(d)}:${two(h)}:${two(m)}:${two(s)}`;
}

/**
 * One node as a status row: every key of `/node-list` in Nodepool's order. A non-integer
 * `connection_port` (k8s drivers put secrets there) shows as `redacted`.
 */
export function nodeRow(node: Node, locked: boolean, nowSeconds?: number): StatusRow {
  const port = node.connection_port;
  return {
    id: node.id,
    provider: node.provider,
    label: node.type,
    server_id: node.external_id,
    public_ipv4: node.public_ipv4,
    ipv6: node.public_ipv6,
    state: node.state,
    age: formatAge(node.state_time, nowSeconds),
    locked: locked ? 'locked' : 'unlocked',
    pool: node.pool,
    hostname: node.hostname,
    private_ipv4: node.private_ipv4,
    AZ: node.az,
    username: node.username,
    connection_port: typeof port === 'number' && Number.isInteger(port) ? port : 'redacted',
    launcher: node.launcher,
    allocated_to: node.allocated_to,
    hold_job: node.hold_job,
    comment: node.comment,
    user_data: node.user_data,
    driver_data: node.driver_data,
  };
}
