/** Nodepool's request listing (`status.py` request_list, STS:297-319). */
import type { NodeRequest } from '../zk/models/node-request';
import type { StatusColumn, StatusRow } from './status-table';

/** Columns of `nodepool request-list` and `/request-list`. */
export const REQUEST_LIST_COLUMNS: readonly StatusColumn[] = [
  { key: 'id', header: 'Request ID' },
  { key: 'relative_priority', header: 'Priority' },
  { key: 'state', header: 'State' },
  { key: 'requestor', header: 'Requestor' },
  { key: 'node_types', header: 'Node Types' },
  { key: 'nodes', header: 'Nodes' },
  { key: 'declined_by', header: 'Declined By' },
  { key: 'event_id', header: 'Event ID' },
];

/** One request as a status row. */
export function requestRow(request: NodeRequest): StatusRow {
  return {
    id: request.id,
    relative_priority: request.relative_priority,
    state: request.state,
    requestor: request.requestor,
    node_types: request.node_types,
    nodes: request.nodes,
    declined_by: request.declined_by,
    event_id: request.event_id,
  };
}
