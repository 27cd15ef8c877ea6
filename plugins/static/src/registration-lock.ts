/**
 * The static registration lock (`/nodepool/static/<provider>/registration-lock`): two
 * nodepool-ts launchers running the same static provider must not register into the same free
 * slot, so every slot-map-and-register round holds it. Taking and releasing it cost three
 * ZooKeeper operations per round, and rounds come with nearly every finished job (issue 17). So
 * while no other launcher may serve the provider (the fleet view says so), the lock is kept
 * between rounds; the moment another one may (it announces the provider in its launcher record
 * before it starts it, and then waits for this lock), the holder lets go. Python launchers do not
 * take the lock at all: while one serves the provider we register nothing (docs/coexistence.md).
 */
import type { LauncherFleet, Logger, ZooKeeper, ZooKeeperLock } from '@nodepool-ts/sdk';

/** See the module comment. One per ZooKeeper connection and provider name; callers hold the provider's mutex. */
export class RegistrationLock {
  private kept: ZooKeeperLock | undefined;

  constructor(
    private readonly zk: ZooKeeper,
    private readonly provider: string,
  ) {}

  /** Runs one round under the lock; false when it was not acquired within 30 s (nothing ran). */
  async run(fn: () => Promise<void>, fleet: LauncherFleet | undefined, log: Logger): Promise<boolean> {
    let lock = this.kept?.isAcquired ? this.kept : undefined;
    this.kept = undefined;
    if (!lock) {
      lock = this.zk.createLock(`/nodepool/static/${this.provider}/registration-lock`);
      if (!(await lock.acquire({ blocking: true, timeout: 30 }))) {
        log.warn('static registration lock not acquired within 30 s; the next sync retries');
        return false;
      }
    }
    try {
      await fn();
    } finally {
      if (fleet?.othersMayServe && !fleet.othersMayServe(this.provider)) this.kept = lock;
      else await lock.release().catch(() => undefined);
    }
    return true;
  }

  /** Lets go of a kept lock when another launcher may serve the provider now (or always, with `always`). */
  async releaseIfShared(fleet: LauncherFleet | undefined, always = false): Promise<void> {
    const lock = this.kept;
    if (!lock || (!always && fleet?.othersMayServe && !fleet.othersMayServe(this.provider))) return;
    this.kept = undefined;
    await lock.release().catch(() => undefined);
  }
}

const locks = new WeakMap<ZooKeeper, Map<string, RegistrationLock>>();

/** The {@link RegistrationLock} of `provider` on this connection (shared like the provider's mutex). */
export function registrationLock(zk: ZooKeeper, provider: string): RegistrationLock {
  let byName = locks.get(zk);
  if (!byName) locks.set(zk, (byName = new Map()));
  let lock = byName.get(provider);
  if (!lock) byName.set(provider, (lock = new RegistrationLock(zk, provider)));
  return lock;
}
