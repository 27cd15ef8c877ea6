/** What a `ZnodeCache` holds and tells its listeners. */

/** One cached child. */
export interface CachedZnode {
  id: string;
  /** Raw data (may be empty: a lock's ensure_path can leave an empty node behind). */
  data: Buffer;
  version: number;
}

/** A change: `current` undefined = removed, `previous` undefined = added. */
export type ZnodeCacheListener = (id: string, current: CachedZnode | undefined, previous: CachedZnode | undefined) => void;
