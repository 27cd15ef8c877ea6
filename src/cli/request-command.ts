/**
 * `nodepool request LABEL...` (our addition): asks for nodes the way Zuul does and, with
 * `--wait`, takes them as Zuul does (locks them, deletes the request, sets them `in-use`), holds
 * them until Ctrl-C or `--hold-for`, then gives them back as Zuul does (`used`, unlocked). A
 * request that fails, times out or is interrupted is deleted, so it can take no node later.
 */
import type { NodeRequest, RequestState } from '../zk/models/node-request';
import { NodeRequest as NodeRequestModel } from '../zk/models/node-request';
import type { Node } from '../zk/models/node';
import { requestPath } from '../zk/nodepool-paths';
import type { NodepoolZk } from '../zk/nodepool-zk';
import { NoNodeError } from '../zk/zk-errors';
import { withNodepoolZk, type CliConfigOptions } from './cli-zk';
import { CliError } from './cli-error';

/** Options of `nodepool request`. */
export interface RequestCommandOptions extends CliConfigOptions {
  labels: string[];
  /** Wait for the nodes, take them and hold them. */
  wait: boolean;
  /** Seconds to wait for fulfilment. */
  timeout: number;
  /** Seconds to hold the nodes before giving them back; undefined = until interrupted. */
  holdFor?: number;
  priority: string;
  out: (text: string) => void;
  /** Aborted on Ctrl-C / SIGTERM: stops waiting or holding. */
  interrupt: AbortSignal;
}

/** How long to wait for each node lock when taking the nodes (a launcher holds it briefly). */
const NODE_LOCK_TIMEOUT_S = 10;

/** Exit code after an interruption before the nodes were held (128 + SIGINT). */
const EXIT_INTERRUPTED = 130;

type Outcome = NodeRequest | 'timeout' | 'interrupted';

/** Sleeps until `ms` pass, `wake` is called or `signal` aborts. */
function pause(ms: number, signal: AbortSignal, setWake: (wake: (() => void) | undefined) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      setWake(undefined);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    setWake(done);
  });
}

/** Waits, driven by a data watch, until the request is fulfilled or failed. */
async function waitForOutcome(zk: NodepoolZk, id: string, timeoutS: number, signal: AbortSignal): Promise<Outcome> {
  const deadline = Date.now() + timeoutS * 1000;
  let wake: (() => void) | undefined;
  let fired = false;
  // One stable watcher: the client keeps one registration per path and function.
  const watcher = (): void => {
    fired = true;
    wake?.();
  };
  const done: RequestState[] = ['fulfilled', 'failed'];
  for (;;) {
    if (signal.aborted) return 'interrupted';
    fired = false;
    let request: NodeRequest;
    try {
      const { data, stat } = await zk.client.get(requestPath(id), watcher);
      request = NodeRequestModel.parse(id, data, stat.version, requestPath(id));
    } catch (err) {
      if (err instanceof NoNodeError) throw new CliError(`request ${id} was deleted by someone else while waiting`);
      throw err;
    }
    if (done.includes(request.state)) return request;
    const left = deadline - Date.now();
    if (left <= 0) return 'timeout';
    if (!fired) await pause(Math.min(left, 2000), signal, (w) => (wake = w));
  }
}

/**
 * Zuul's `acceptNodes`/`useNodeSet`: locks each node (checking it is still allocated to the
 * request), deletes the request, then sets the nodes `in-use`. On any failure the nodes taken so
 * far are unlocked and the request deleted anyway (the launcher then de-allocates the nodes).
 */
async function takeNodes(zk: NodepoolZk, request: NodeRequest): Promise<Node[]> {
  const id = request.id as string;
  const nodes: Node[] = [];
  try {
    for (const nodeId of request.nodes) {
      const node = await zk.getNode(nodeId);
      if (!node || node.allocated_to !== id) throw new CliError(`node ${nodeId} of request ${id} is no longer allocated to it`);
      if (!(await zk.lockNode(node, { blocking: true, timeout: NODE_LOCK_TIMEOUT_S }))) {
        throw new CliError(`could not lock node ${nodeId} within ${NODE_LOCK_TIMEOUT_S} s`);
      }
      nodes.push(node);
      // lockNode re-read the node: the launcher may have re-allocated it meanwhile.
      if (node.allocated_to !== id) throw new CliError(`node ${nodeId} was re-allocated to ${node.allocated_to} while locking it`);
    }
    await zk.deleteNodeRequest(id);
    for (const node of nodes) {
      node.state = 'in-use';
      await zk.storeNode(node);
    }
    return nodes;
  } catch (err) {
    for (const node of nodes) await zk.unlockNode(node).catch(() => undefined);
    await zk.deleteNodeRequest(id).catch(() => undefined);
    throw err;
  }
}

/** Zuul's `returnNodeSet`: each held node `used` (its launcher deletes or recycles it), unlocked. */
async function giveBack(zk: NodepoolZk, nodes: Node[]): Promise<void> {
  for (const node of nodes) {
    try {
      node.state = 'used';
      await zk.storeNode(node);
    } finally {
      await zk.unlockNode(node).catch(() => undefined);
    }
  }
}

/** Runs `nodepool request`; resolves with the exit code. */
export async function runRequestCommand(options: RequestCommandOptions): Promise<number> {
  return withNodepoolZk(options, async (zk) => {
    const request = new NodeRequestModel();
    request.node_types = options.labels;
    request.requestor = 'nodepool-cli';
    request.created_time = Date.now() / 1000;
    // Held by this process: ephemeral, so it cannot outlive us (and take nodes) if we die.
    // Without --wait it must outlive us until `nodepool return`.
    await zk.submitNodeRequest(request, options.priority, { ephemeral: options.wait });
    const id = request.id as string;
    options.out(`request ${id} submitted for ${options.labels.join(', ')}\n`);
    if (!options.wait) {
      options.out(`its nodes stay allocated to it until: nodepool return ${id}\n`);
      return 0;
    }
    const outcome = await waitForOutcome(zk, id, options.timeout, options.interrupt);
    if (outcome === 'timeout' || outcome === 'interrupted') {
      await zk.deleteNodeRequest(id);
      if (outcome === 'interrupted') {
        options.out(`interrupted: request ${id} deleted\n`);
        return EXIT_INTERRUPTED;
      }
      throw new CliError(`request ${id} was not fulfilled within ${options.timeout} s; it was deleted`);
    }
    if (outcome.state === 'failed') {
      await zk.deleteNodeRequest(id);
      options.out(`request ${id} failed (declined by: ${outcome.declined_by.join(', ') || 'nobody'}); it was deleted\n`);
      return 1;
    }
    const nodes = await takeNodes(zk, outcome);
    options.out(`request ${id} fulfilled:\n`);
    for (const [i, node] of nodes.entries()) {
      options.out(`  ${node.id}  ${outcome.node_types[i]}  ${node.interface_ip ?? ''}  ${node.state}\n`);
    }
    try {
      const until = options.holdFor === undefined ? 'Ctrl-C' : `${options.holdFor} s have passed (or Ctrl-C)`;
      options.out(`holding ${nodes.length === 1 ? 'the node' : `the ${nodes.length} nodes`} until ${until}\n`);
      await pause(options.holdFor === undefined ? 2 ** 31 - 1 : options.holdFor * 1000, options.interrupt, () => undefined);
    } finally {
      await giveBack(zk, nodes);
    }
    options.out(`returned ${nodes.map((n) => n.id).join(', ')} (state used)\n`);
    return 0;
  });
}
