/**
 * What a buggy or hostile client with write access to ZooKeeper can write (issue 19), for the
 * hostile-input test and the `hostile` benchmark: malformed and oversized request, node and pool
 * component bodies, requests that can never be served (thousands of unknown labels, one label
 * repeated tens of thousands of times, labels nobody has), and children of node lock dirs that
 * are not kazoo lock contenders. Deterministic from a seed.
 */
import { BODY_KINDS, Rng, malformedBody } from './fuzz';

/** One znode to create (sequence: `path` is a prefix the server completes). */
export interface HostileZnode {
  what: 'request' | 'node' | 'component' | 'lock-child';
  /** Short description, for failure messages. */
  kind: string;
  path: string;
  data: Buffer;
  sequence: boolean;
}

const NODE = {
  state: 'ready', state_time: 1764000000.5, provider: 'hostile-elsewhere', pool: 'main', type: ['hostile-label'],
  allocated_to: null, hostname: '192.0.2.1', interface_ip: '192.0.2.1', connection_port: 22, username: 'zuul',
  launcher: 'somebody', host_keys: [], attributes: { a: 1 }, resources: { cores: 1 }, user_data: null,
};
const POOL = {
  kind: 'pool', hostname: 'elsewhere', state: 'running', version: '9.0.0', model_api: 1, id: 'x', name: 'main',
  provider_name: 'hostile-elsewhere', supported_labels: ['hostile-label'], priority: 100, paused: false,
};

/** A `requested` request body asking for `labels`, as Zuul writes them. */
export function requestBody(labels: readonly string[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({
    state: 'requested', state_time: 1764000000.5, declined_by: [], node_types: labels, nodes: [], reuse: true,
    requestor: 'hostile', requestor_data: { job_name: 'x' }, provider: null, relative_priority: 0,
    event_id: 'e', created_time: 1764000000.5, tenant_name: null, ...extra,
  }));
}

/** Pool component bodies that nobody can parse (a parseable one would be a pool that never declines). */
const UNPARSEABLE_KINDS = ['bad-json', 'truncated', 'binary', 'deep-objects'] as const;

/**
 * `count` hostile request and node znodes (about half each) plus a few pool components;
 * `label` is a label the fleet serves (for the repeated-label requests).
 */
export function hostileZnodes(count: number, label: string, seed = 19): HostileZnode[] {
  const rng = new Rng(seed);
  const out: HostileZnode[] = [];
  const request = (kind: string, data: Buffer): void => void out.push({ what: 'request', kind, path: '/nodepool/requests/300-', data, sequence: true });
  for (let i = 0; out.length < count; i++) {
    // Only a few bodies over the size bound (2 requests, 4 nodes): each is most of a MiB to write.
    switch (i % 8 === 4 && i >= 48 ? 5 : i % 8) {
      case 0:
        request('unknown labels x2000', requestBody(Array.from({ length: 2000 }, (_, j) => `no-such-label-${i}-${j}`)));
        break;
      case 1:
        request(`${label} x5000`, requestBody(Array.from({ length: 5000 }, () => label)));
        break;
      case 2:
        request('one unknown label', requestBody([`no-such-label-${i}`]));
        break;
      case 3:
        request('state is a 20 KB string', requestBody([label], { state: 's'.repeat(20_000) }));
        break;
      case 4:
        if (i === 4 || i === 20) request('over the size bound', requestBody([label], { requestor_data: { junk: 'j'.repeat(300_000) } }));
        else out.push({ what: 'node', kind: 'over the size bound', path: '/nodepool/nodes/', data: Buffer.from(JSON.stringify({ ...NODE, comment: 'c'.repeat(900_000) })), sequence: true });
        break;
      default: {
        // Huge bodies are the case above.
        const kind = rng.pick(BODY_KINDS.filter((k) => k !== 'huge-value'));
        const node = rng.chance(0.5);
        const data = malformedBody(rng, kind, node ? NODE : JSON.parse(requestBody(['hostile-label']).toString()) as Record<string, unknown>);
        if (node) out.push({ what: 'node', kind, path: '/nodepool/nodes/', data, sequence: true });
        else request(kind, data);
      }
    }
  }
  for (let i = 0; i < Math.ceil(count / 40); i++) {
    const kind = UNPARSEABLE_KINDS[i % UNPARSEABLE_KINDS.length];
    out.push({ what: 'component', kind, path: '/nodepool/components/pool/hostile-', data: malformedBody(rng, kind, POOL), sequence: true });
  }
  return out;
}

/** A child of a node's lock dir that is not a kazoo contender (no `__lock__<10 digits>`). */
export function junkLockChild(nodeId: string, i = 0): HostileZnode {
  return { what: 'lock-child', kind: 'junk lock child', path: `/nodepool/nodes/${nodeId}/lock/not-a-lock-${i}`, data: Buffer.from('junk'), sequence: false };
}
