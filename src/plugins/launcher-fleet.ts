/**
 * What a provider knows of the other launchers on its ZooKeeper. During a migration Python
 * `nodepool-launcher`s serve the same providers as ours, and they know none of the ZooKeeper
 * locks nodepool-ts adds on top of Nodepool's protocol (static registration, metastatic
 * allocation). A provider whose safety rests on such a lock asks this view whether a launcher
 * that ignores it serves the provider, and steps back while one does (docs/coexistence.md).
 */

/** The `version` suffix every nodepool-ts component record carries (`0.1.0 nodepool-ts`). */
export const NODEPOOL_TS_VERSION_SUFFIX = ' nodepool-ts';

/** A launcher process that is not nodepool-ts, as its component records describe it. */
export interface ForeignLauncher {
  /** Its `hostname` (the component records' field, not the znode name). */
  readonly hostname: string;
  /** Its `version` string, e.g. Nodepool's pbr version. */
  readonly version: string;
  /**
   * Providers of its registered pools; undefined while it has registered its launcher record but
   * no pool yet (it is starting, and may be registering static slots of any provider already).
   */
  readonly providers: readonly string[] | undefined;
}

/** See the module comment. Bound by the engine; providers get it in their context. */
export interface LauncherFleet {
  /**
   * Why `provider` is shared with a launcher that does not know nodepool-ts's locks right now
   * (names the launcher), or undefined when only nodepool-ts launchers serve it. Also a reason
   * while the view is not loaded (before start, after a session loss): unknown counts as shared.
   */
  foreignPresence(provider: string): string | undefined;
  /**
   * Whether a launcher other than this one (of any kind or version) may register or create nodes
   * of `provider` now, as far as the component records tell; yes when unsure. A provider whose
   * ZooKeeper lock only guards against other launchers may keep it between uses while no.
   * Optional: a fleet view without it says nothing (assume yes).
   */
  othersMayServe?(provider: string): boolean;
  /** Launchers that are not nodepool-ts, from the last view. */
  foreignLaunchers(): ForeignLauncher[];
  /**
   * Calls `listener` after the component records changed (a launcher or pool came or went).
   * `removed` is true when any record disappeared: a launcher may have died, leaving requests
   * whose locks vanished with its session. Returns the unsubscribe function.
   */
  onChange(listener: (removed: boolean) => void): () => void;
}

/** Injection token for the engine's {@link LauncherFleet}. */
export const LauncherFleet: unique symbol = Symbol.for('nodepool-ts.LauncherFleet');
