/**
 * A {@link ZnodeCache}'s children created by somebody else and left unread (issue 17). With
 * several launchers each one read every new request and every new node once, although most of
 * them are of no use to it: a request another launcher's pool takes at once, a node of another
 * launcher's provider. A rule says which creates may stay unread; such a child is held as a
 * placeholder without data (version {@link UNREAD_VERSION}), stale, until somebody asks for it
 * (the cache's `freshen`), its changes are not read either, and its delete costs nothing.
 * Optionally each one is read anyway after a delay (a request nobody took meanwhile).
 */
import type { Logger } from '../plugins/logger';

/** The version of a placeholder entry: below any real znode version. */
export const UNREAD_VERSION = -1;

/** How a cache treats creates by others (see the module comment). */
export interface LazyCreateOptions {
  /** Reads each child left unread after this long, ms (default: never). */
  readAfterMs?: number;
}

/** See the module comment. One per cache. */
export class LazyCreates {
  private rule: ((id: string) => boolean) | undefined;
  private readAfterMs: number | undefined;
  /** Bumped by every {@link setRule}: placeholders of an older rule may be anything now. */
  private ruleEpoch = 0;
  private readonly unread = new Map<string, { since: number; epoch: number }>();
  /** When each child that was once left unread was first seen (0: handed over, see {@link markDue}). */
  private readonly seen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly root: string,
    private readonly cache: {
      /** Whether the cache holds `id` as a placeholder. */
      isPlaceholder(id: string): boolean;
      /** Reads these placeholders. */
      freshen(ids: string[]): Promise<void>;
    },
  ) {}

  /**
   * A child created by somebody else that `rule` accepts (called with its id, before anything of
   * it is read) is held as a placeholder without data, stale; its changes are not read either,
   * and the cache emits no change event for it until it is read (`freshen`, {@link readNow}, or
   * `options.readAfterMs` after its create). Undefined: every create is read. Placeholders held
   * so far belong to the old rule ({@link isCurrent}).
   */
  setRule(rule: ((id: string) => boolean) | undefined, options: LazyCreateOptions = {}): void {
    this.rule = rule;
    this.readAfterMs = options.readAfterMs;
    this.ruleEpoch++;
  }

  /** The current rule's epoch (see {@link isCurrent}). */
  get epoch(): number {
    return this.ruleEpoch;
  }

  /** Whether a create of `id` by somebody else may stay unread; a rule that throws says no. */
  leave(id: string): boolean {
    if (!this.rule) return false;
    try {
      return this.rule(id);
    } catch (err) {
      this.logger.error(`cache of ${this.root}: lazy-create rule failed: ${(err as Error).message}`);
      return false;
    }
  }

  /** Notes a placeholder for `id`. */
  add(id: string): void {
    const now = Date.now();
    this.unread.set(id, { since: now, epoch: this.ruleEpoch });
    if (!this.seen.has(id)) this.seen.set(id, now);
    this.arm();
  }

  /** Whether the cache holds `id` as a placeholder. */
  isUnread(id: string): boolean {
    return this.cache.isPlaceholder(id);
  }

  /** Ids of the placeholders. */
  unreadIds(): string[] {
    return this.ids().filter((id) => this.cache.isPlaceholder(id));
  }

  /** Reads placeholder `id` now, counted as waited for ({@link seenAt} 0). */
  readNow(id: string): Promise<void> {
    this.markDue(id);
    return this.cache.isPlaceholder(id) ? this.cache.freshen([id]) : Promise.resolve();
  }

  /** Whether placeholder `id` was left under the rule in force now. */
  isCurrent(id: string): boolean {
    return this.unread.get(id)?.epoch === this.ruleEpoch;
  }

  /** Ids of the placeholders. */
  ids(): string[] {
    return [...this.unread.keys()];
  }

  /** When a child once left unread was first seen (ms since the epoch; 0 when handed over); undefined for others. */
  seenAt(id: string): number | undefined {
    return this.seen.get(id);
  }

  /** Somebody asked for `id` to be read now: counted as waited for (seen at 0). */
  markDue(id: string): void {
    if (this.unread.has(id) || this.seen.has(id)) this.seen.set(id, 0);
  }

  /** The placeholder was read (the entry holds data now). */
  read(id: string): void {
    this.unread.delete(id);
  }

  /** The child is gone. */
  forget(id: string): void {
    this.unread.delete(id);
    this.seen.delete(id);
  }

  /** Forgets everything (the cache stopped or reloads: every child is read afresh). */
  clear(): void {
    this.unread.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.timer || this.readAfterMs === undefined) return;
    const first = this.unread.values().next().value as { since: number } | undefined;
    if (!first) return;
    this.timer = setTimeout(() => this.fire(), Math.max(10, first.since + this.readAfterMs - Date.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    const after = this.readAfterMs;
    if (after === undefined) return;
    const now = Date.now();
    // Insertion order is age order: the due ones come first.
    const due: string[] = [];
    for (const [id, { since }] of this.unread) {
      if (since + after > now) break;
      due.push(id);
    }
    // Queued again at the end: a read that fails leaves them for one more delay, not a loop.
    for (const id of due) {
      const entry = this.unread.get(id) as { since: number; epoch: number };
      this.unread.delete(id);
      this.unread.set(id, { ...entry, since: now });
    }
    if (due.length > 0) void this.cache.freshen(due).catch(() => undefined);
    this.arm();
  }
}
