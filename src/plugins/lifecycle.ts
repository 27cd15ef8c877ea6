/**
 * A service that takes part in the kernel's lifecycle. The kernel calls `start` in binding order
 * after all plugins are loaded and `stop` on every started service in parallel, bounded by the
 * kernel's stop timeout. Each call runs inside its own span.
 */
export interface LifecycleContribution {
  /** Name used in logs and span names. */
  readonly name: string;
  /** Called once when the kernel starts. A rejection stops the kernel's start. */
  start?(): Promise<void>;
  /** Called once when the kernel stops; must be safe to call after a failed start. */
  stop?(): Promise<void>;
}

/** Multi-injection token: bind any number of {@link LifecycleContribution}s to it. */
export const LifecycleContribution: unique symbol = Symbol.for('nodepool-ts.LifecycleContribution');
