/**
 * Names in kazoo lock directories: which children are contenders and in what order they hold the
 * lock (kazoo 2.9.0 `kazoo/recipe/lock.py`), and Nodepool's forced unlock, which picks the holder
 * by a looser rule. Apart from the lock recipe (kazoo-lock.ts) because atomic writes and the
 * record checks read lock directories without taking a lock.
 */
import type { ZooKeeperClient } from '../plugins/zookeeper';
import { NoNodeError } from './zk-errors';
import { joinPath } from './zk-path';

/** kazoo's contender test (KL:110-114): `__lock__` then a 10-digit (maybe negative) sequence. */
const CONTENDER_RE = /(?:__lock__)(-?\d{10})$/;
/** Nodepool's forceUnlockNode pattern: any name ending in 10 digits (ZK:2532-2569). */
const FORCE_UNLOCK_RE = /^.*?(\d{10})$/;

/** Sequence of a contender name, or undefined when it is not a contender. */
export function contenderSequence(name: string): string | undefined {
  return CONTENDER_RE.exec(name)?.[1];
}

/** Contender names sorted by sequence, compared as strings like kazoo. */
export function sortContenders(children: readonly string[]): string[] {
  return children
    .map((name) => ({ name, seq: contenderSequence(name) }))
    .filter((c): c is { name: string; seq: string } => c.seq !== undefined)
    .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
    .map((c) => c.name);
}

/**
 * Nodepool's forceUnlockNode (ZK:2532-2569): deletes only the child of `lockDir` whose name
 * ends in the smallest 10-digit number, i.e. the current holder. Returns its name, or null when
 * there is none. Children not ending in 10 digits are ignored.
 */
export async function forceUnlock(client: ZooKeeperClient, lockDir: string): Promise<string | null> {
  let children: string[];
  try {
    children = await client.getChildren(lockDir);
  } catch (err) {
    if (err instanceof NoNodeError) return null;
    throw err;
  }
  let lowest: { name: string; seq: string } | null = null;
  for (const name of children) {
    const seq = FORCE_UNLOCK_RE.exec(name)?.[1];
    if (seq !== undefined && (lowest === null || seq < lowest.seq)) lowest = { name, seq };
  }
  if (!lowest) return null;
  try {
    await client.delete(joinPath(lockDir, lowest.name));
  } catch (err) {
    if (!(err instanceof NoNodeError)) throw err;
  }
  return lowest.name;
}
