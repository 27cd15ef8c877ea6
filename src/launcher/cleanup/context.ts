/**
 * Shared plumbing of the CleanupWorker tasks (spec §4.6) and min-ready (§4.5): the context every
 * task takes, the clock, and the per-item isolation helper.
 */
import type { Logger } from '../../plugins/logger';
import type { ZooKeeper } from '../../plugins/zookeeper';

/** What every cleanup task needs. */
export interface CleanupContext {
  zk: ZooKeeper;
  logger: Logger;
  /**
   * Current Unix time in (float) seconds. Injectable so tests can age records without waiting;
   * defaults to the wall clock, as Python's `time.time()`.
   */
  now?: () => number;
}

/** The wall clock in float seconds. */
export function wallClock(): number {
  return Date.now() / 1000;
}

/** Short message of any thrown value, for log lines. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs `fn` for one item and logs (rather than throws) its failure, so one bad node, request or
 * znode cannot stop a task from processing the others (Nodepool wraps each item the same way).
 * Returns false when `fn` threw.
 */
export async function isolated(
  logger: Logger,
  what: string,
  fields: Record<string, unknown>,
  fn: () => Promise<void>,
): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    logger.error(`${what} failed: ${errorText(err)}`, { ...fields, err });
    return false;
  }
}

/** Whether the node's provider is one of ours (tasks never touch other launchers' nodes). */
export function isOurProvider(provider: string | null, ourProviders: ReadonlySet<string> | ReadonlyMap<string, unknown>): boolean {
  return provider !== null && ourProviders.has(provider);
}
