/**
 * Instant launches: a provider that can hand out an instance at once, without running a create
 * state machine (metastatic: a free slot on a backing node it holds), lets the engine fulfil a
 * request the way it fulfils one from ready nodes — the nodes are created and the request
 * fulfilled in one version-checked transaction — instead of locking the request, launching,
 * storing each step and unlocking. See {@link Provider.beginInstantLaunches}.
 */
import type { CreateRequest, Instance } from './state-machine';

/** A check a transaction makes: the znode at `path` exists, at `version` (-1: any version). */
export interface ZnodeCheck {
  /** Full znode path. */
  path: string;
  /** The version it must have; -1 for any. */
  version: number;
}

/** One instance reserved by {@link InstantLaunchBatch.reserve}. */
export interface InstantReservation {
  /**
   * Checks the engine adds to the fulfilment transaction: it writes nothing unless every one
   * holds, so an instance whose backing resource is no longer the provider's (deleted, released,
   * changed since it was verified) is never handed out.
   */
  readonly checks: readonly ZnodeCheck[];
  /**
   * The instance for the node the reservation goes to. The node exists already (created `init`,
   * unlocked); the instance is applied to it as a completed launch's would be and the node is
   * written `ready` by the fulfilment transaction.
   */
  instance(request: CreateRequest): Instance;
  /**
   * The reservation was not used: the transaction was not made, or failed. `failedCheck`: the
   * path of the check that made it fail, so the provider verifies that resource again before it
   * offers it once more.
   */
  release(failedCheck?: string): void;
}

/**
 * What a provider can hand out instantly during one pass of a pool (see
 * {@link Provider.beginInstantLaunches}). Reservations not released by the time the batch ends
 * were committed: the nodes exist with their instances.
 */
export interface InstantLaunchBatch {
  /**
   * Reserves an instance of `label`, or undefined when none can be had instantly now (the
   * engine then launches the node as usual). 'later': none now, but one is about to be free
   * (metastatic: a slot whose node is being deleted), so the request is left for a later pass
   * instead of launching, which would add capacity (a backing node) for a moment's shortage.
   */
  reserve(label: string): Promise<InstantReservation | 'later' | undefined>;
  /** Ends the batch (e.g. releases the provider's allocation lock). Called exactly once. */
  end(): Promise<void>;
}
