/** Nodepool's node listing (`status.py` node_list, STS:111-193) for the CLI and the web app. */
import type { Node } from '../zk/models/node';
import type { StatusColumn, StatusRow } from './status-table';
import { formatAge } from './format-age';

export { formatAge } from './format-age';

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
