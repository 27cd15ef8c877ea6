/**
 * The leak-detection contract between the engine and a driver. Every instance (and leak-prone
 * resource) a launch creates carries three tags; a driver stores them as cloud metadata and
 * reports them back from `listInstances()`/`listResources()`. The engine's cleanup deletes what
 * carries this provider's name and the id of a node that no longer exists, but only on its
 * second sighting in a row, so an instance whose node record is being written right now is never
 * taken for a leak. Untagged things and other providers' are never touched.
 */

/** Tag with the node id the instance was launched for. */
export const NODE_ID_TAG = 'nodepool_node_id';
/** Tag with the pool name. */
export const POOL_NAME_TAG = 'nodepool_pool_name';
/** Tag with the provider name; leak detection only looks at instances carrying its own. */
export const PROVIDER_NAME_TAG = 'nodepool_provider_name';

/** The tags of an instance launched for node `nodeId` of `pool` in `provider`. */
export function leakTags(nodeId: string, pool: string, provider: string): Record<string, string> {
  return { [NODE_ID_TAG]: nodeId, [POOL_NAME_TAG]: pool, [PROVIDER_NAME_TAG]: provider };
}

/**
 * Tags of a leak-prone resource that belongs to no node (a port left DOWN, a floating IP bound to
 * nothing): this provider's name and an empty node id, which no node has, so the leak rule
 * applies to it as soon as a driver's `listResources()` reports it.
 */
export function strayResourceTags(provider: string): Record<string, string> {
  return { [PROVIDER_NAME_TAG]: provider, [NODE_ID_TAG]: '' };
}

/** Whether tags say "this provider's": its name and a node id (empty for {@link strayResourceTags}). */
export function isTaggedFor(metadata: Readonly<Record<string, string>> | undefined, provider: string): boolean {
  return metadata?.[PROVIDER_NAME_TAG] === provider && typeof metadata[NODE_ID_TAG] === 'string';
}

/**
 * Whether tags mark a leak: tagged for this provider (see {@link isTaggedFor}) with the id of a
 * node that is not in `liveNodeIds`. A leak is deleted only once confirmed by {@link LeakSightings}.
 */
export function isLeaked(metadata: Readonly<Record<string, string>> | undefined, provider: string, liveNodeIds: ReadonlySet<string>): boolean {
  return isTaggedFor(metadata, provider) && !liveNodeIds.has((metadata as Record<string, string>)[NODE_ID_TAG]);
}

/**
 * The second-sighting rule: what looked leaked on one pass is deleted only if it still does on
 * the next. Keep one per provider across passes; call {@link LeakSightings.pass} once per pass
 * with the keys (e.g. `instance:<id>`) that look leaked now.
 */
export class LeakSightings {
  private previous = new Set<string>();

  /**
   * Records this pass's suspects and splits them: `confirmed` were seen on the previous pass too
   * (delete them now), `suspected` are new (keep them until the next pass). What is no longer
   * seen is forgotten.
   */
  pass(keys: Iterable<string>): { confirmed: string[]; suspected: string[] } {
    const current = new Set(keys);
    const confirmed = [...current].filter((k) => this.previous.has(k));
    const suspected = [...current].filter((k) => !this.previous.has(k));
    this.previous = current;
    return { confirmed, suspected };
  }
}
