/**
 * Slot bookkeeping of a static provider (spec drivers-config §2.4): which node record holds
 * which slot of which host.
 */
import type { Node } from '@nodepool-ts/sdk';
import { hostTuple, nodeTuple, type StaticHost } from './static-host';

/** Host tuple → slot entries; `null` is a free slot, entries past max-parallel-jobs are excess. */
export type SlotMap = Map<string, Array<Node | null>>;

/**
 * Builds the slot map from the configured hosts and the provider's node records. `building` and
 * `deleting` records hold no slot. A record whose slot is in range and free fills it; the others
 * (no slot, out of range, duplicate) take the first free slot, which keeps records written
 * without `slot` working, or are appended as excess. Unknown tuples get only excess entries.
 *
 * @param nodes node records of all providers; only those of `providerName` count
 */
export function buildSlotMap(hosts: readonly StaticHost[], nodes: readonly Node[], providerName: string): SlotMap {
  const slots: SlotMap = new Map();
  for (const { node } of hosts) slots.set(hostTuple(node), new Array<Node | null>(node['max-parallel-jobs']).fill(null));

  const unslotted: Node[] = [];
  for (const node of nodes) {
    if (node.provider !== providerName) continue;
    if (node.state === 'building' || node.state === 'deleting') continue;
    const tuple = nodeTuple(node);
    const entries = slots.get(tuple);
    if (!entries) {
      slots.set(tuple, []);
      unslotted.push(node);
    } else if (node.slot !== null && node.slot >= 0 && node.slot < entries.length && entries[node.slot] === null) {
      entries[node.slot] = node;
    } else {
      unslotted.push(node);
    }
  }
  // Second pass, so records with a valid slot always keep theirs.
  for (const node of unslotted) {
    const entries = slots.get(nodeTuple(node))!;
    const free = entries.indexOf(null);
    if (free >= 0) entries[free] = node;
    else entries.push(node);
  }
  return slots;
}
