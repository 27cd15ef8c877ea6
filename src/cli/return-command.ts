/**
 * `nodepool return <node|request>` (our addition): gives back what `nodepool request` (or any
 * requestor) left behind. A request is deleted first, so no launcher allocates more to it, then
 * each of its nodes that was handed out (allocated `ready`, or `in-use`) is returned as Zuul returns nodes:
 * `used` under the node lock. A node alone (`in-use`, `hold`, or `ready` and allocated) is returned the same
 * way. Nodes still being built for a deleted request are de-allocated by their launcher.
 */
import type { Node } from '../zk/models/node';
import type { NodepoolZk } from '../zk/nodepool-zk';
import { CliError } from './cli-error';

/** Node lock wait, s (as `hold` and `delete`). */
const LOCK_TIMEOUT_S = 5;

/** Whether the node is someone's to give back: in use, held, or ready and allocated. */
function handedOut(node: Node): boolean {
  return node.state === 'in-use' || node.state === 'hold' || (node.state === 'ready' && Boolean(node.allocated_to));
}

/** Request ids are `<prio>-<seq>`; node ids are plain sequence numbers (spec §1.2). */
export function isRequestId(id: string): boolean {
  return /^\d{3}-\d+$/.test(id);
}

/** Locks the node (waiting a while), or says who may hold it. */
async function lockForReturn(zk: NodepoolZk, node: Node): Promise<void> {
  if (!(await zk.lockNode(node, { blocking: true, timeout: LOCK_TIMEOUT_S }))) {
    throw new CliError(`timeout trying to acquire the lock of node ${node.id} (held by someone else: a running \`nodepool request\` gives it back on Ctrl-C)`);
  }
}

/** Marks a node we hold locked `used` if it is still returnable (and allocated as expected). */
async function markUsed(zk: NodepoolZk, node: Node, allocatedTo?: string): Promise<boolean> {
  // lockNode re-read the node: check again on current data.
  if (!handedOut(node) || (allocatedTo !== undefined && node.allocated_to !== allocatedTo)) return false;
  node.state = 'used';
  await zk.storeNode(node);
  return true;
}

/** Locks the node and, if it is still returnable (and allocated as expected), marks it used. */
async function returnNode(zk: NodepoolZk, node: Node, allocatedTo?: string): Promise<boolean> {
  await lockForReturn(zk, node);
  try {
    return await markUsed(zk, node, allocatedTo);
  } finally {
    await zk.unlockNode(node);
  }
}

/** Runs `nodepool return ID`; resolves with the exit code. */
export async function returnCommand(zk: NodepoolZk, id: string, out: (t: string) => void): Promise<number> {
  if (isRequestId(id)) {
    const request = await zk.getNodeRequest(id);
    const nodes = await zk.getNodes((n) => n.allocated_to === id);
    if (!request && nodes.length === 0) {
      out(`Request ${id} not found\n`);
      return 0;
    }
    // The nodes are locked before the request goes: a launcher de-allocates a ready node whose
    // request vanished, unless it is locked (Zuul locks its nodes before it deletes its request).
    const locked: Node[] = [];
    const returned: string[] = [];
    try {
      for (const node of nodes) {
        if (!handedOut(node)) continue;
        await lockForReturn(zk, node);
        locked.push(node);
      }
      await zk.deleteNodeRequest(id);
      for (const node of locked) if (await markUsed(zk, node, id)) returned.push(node.id as string);
    } finally {
      for (const node of locked) await zk.unlockNode(node).catch(() => undefined);
    }
    out(`Request ${id} deleted; ${returned.length ? `returned ${returned.join(', ')} (state used)` : 'no node had been handed out'}\n`);
    return 0;
  }
  const node = await zk.getNode(id);
  if (!node) {
    out(`Node id ${id} not found\n`);
    return 0;
  }
  if (!handedOut(node) || !(await returnNode(zk, node))) {
    throw new CliError(`node ${id} is ${node.state}${node.allocated_to ? '' : ' and allocated to nobody'}: only an in-use, hold or allocated ready node can be returned`);
  }
  // A line, not the node table: its launcher may already be deleting the node.
  out(`Node ${id} returned (state used)\n`);
  return 0;
}
