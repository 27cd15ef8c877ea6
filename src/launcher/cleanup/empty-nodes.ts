/**
 * CleanupWorker task "empty node znodes" (spec §4.6.6, LCH:836-849): taking or inspecting the
 * lock of a node that was deleted meanwhile re-creates `/nodepool/nodes/<id>` (and its `lock`
 * dir) as persistent znodes with empty data (kazoo's ensure_path, spec §3.3). Nobody would ever
 * remove them, so this task does.
 */
import { nodePath } from '../../zk/nodepool-paths';
import { BadVersionError, NoNodeError, NotEmptyError } from '../../zk/zk-errors';
import { type CleanupContext, isolated } from './context';

/**
 * Recursively deletes node znodes whose data is empty. The final delete of the node itself is
 * version-checked against the empty read, so a znode whose data appeared meanwhile is kept.
 * Returns the removed ids. Each znode is isolated.
 */
export async function removeEmptyNodes(options: CleanupContext): Promise<string[]> {
  const { zk, logger } = options;
  const removed: string[] = [];
  // Only ids whose cached body is empty are candidates: reading every node here would cost one
  // ZooKeeper read per node per pass, and reading every unreadable one (the fallback without a
  // cache) re-fetched each hostile body, up to 1 MiB, on every pass (issue 19).
  const empty = zk.emptyNodeIds?.();
  const withData = empty ? undefined : new Set((await zk.getNodes()).map((n) => n.id));
  for (const id of empty ?? (await zk.getNodeIds())) {
    if (withData?.has(id)) continue;
    const path = nodePath(id);
    await isolated(logger, 'removing empty node znode', { node: id, path }, async () => {
      if (await removeIfEmpty(options, path)) {
        removed.push(id);
        logger.info(`removed empty node znode ${path}`, { node: id, path });
      }
    });
  }
  return removed;
}

async function removeIfEmpty({ zk }: CleanupContext, path: string): Promise<boolean> {
  let version: number;
  try {
    const { data, stat } = await zk.client.get(path);
    if (data && data.length > 0) return false;
    version = stat.version;
  } catch (err) {
    if (err instanceof NoNodeError) return false;
    throw err;
  }
  // Children first (the lock dir and any leftover contenders), as kazoo's recursive delete does.
  for (const child of await childrenOf(zk.client, path)) {
    await zk.client.deleteRecursive(`${path}/${child}`);
  }
  try {
    // Version-checked: a write of real data since our read makes this fail, and the node stays.
    await zk.client.delete(path, version);
    return true;
  } catch (err) {
    // Data appeared (BadVersion), somebody locked it again (NotEmpty), or it is already gone:
    // leave it for the next pass.
    if (err instanceof BadVersionError || err instanceof NotEmptyError || err instanceof NoNodeError) return false;
    throw err;
  }
}

async function childrenOf(client: CleanupContext['zk']['client'], path: string): Promise<string[]> {
  try {
    return await client.getChildren(path);
  } catch (err) {
    if (err instanceof NoNodeError) return [];
    throw err;
  }
}
