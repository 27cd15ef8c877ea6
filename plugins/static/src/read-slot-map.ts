/**
 * Reading a static provider's slot map (see slot-map.ts) from ZooKeeper, for a registration
 * round under the registration lock.
 */
import { NoNodeError, type Node, type ZooKeeper } from '@nodepool-ts/sdk';
import { buildSlotMap, type SlotMap } from './slot-map';
import { sortedIncludes, sortedMinus } from './sorted-ids';
import type { StaticHost } from './static-host';

/**
 * The slot map from the cache, plus records the cache may not have loaded yet: a record another
 * launcher registered just before it released the registration lock is listed by ZooKeeper
 * already but maybe not read into our cache, and missing it would register its slot again.
 * (Stale data the other way, a record shown that is gone, only delays a registration.)
 */
export async function readSlotMap(zk: ZooKeeper, providerName: string, hosts: readonly StaticHost[]): Promise<SlotMap> {
  const wanted = (n: Node): boolean => n.provider === providerName;
  // `known` must come from the same state of the cache as `cached`: a record that reached the
  // cache after it would be neither copied nor read as fresh, and its slot would look free
  // (double booking). With a cache it holds unreadable records too (taken in the same tick as
  // `cached`): reading each of them again on every round cost a hostile body's size each time
  // (issue 19); as unreadable records they book no slot either way. Only our provider's
  // records are copied: at 10 000 nodes a full copy per round was most of the launcher's garbage.
  const all = zk.cachedNodeIds?.();
  const known: string[] = all ?? [];
  // Without a cache every node is read (and listed in `known`); with one, only ours are wanted.
  const cached = await zk.getNodes((n) => {
    if (!all) known.push(n.id as string);
    return wanted(n);
  }, all ? { providers: new Set([providerName]) } : undefined);
  const ids = await zk.client.getChildren('/nodepool/nodes').catch((err: unknown) => {
    if (err instanceof NoNodeError) return [] as string[];
    throw err;
  });
  // Both lists sorted and walked side by side instead of two Sets of every node id.
  ids.sort();
  known.sort();
  const fresh = await Promise.all(sortedMinus(ids, known).map((id) => zk.getNode(id)));
  const nodes = [...cached.filter((n) => sortedIncludes(ids, n.id as string)), ...fresh.filter((n): n is Node => n !== undefined && wanted(n))];
  return buildSlotMap(hosts, nodes, providerName);
}
