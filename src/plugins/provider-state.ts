/**
 * Where a configured provider stands in this launcher. `starting`: its `start()` runs (first
 * time or a retry); `running`: started, its pools take requests; `failed`: its driver is
 * missing, or `start()` threw or overran its time limit, a retry is due at `retryAt`;
 * `stopping`: `stop()` runs (removed, or the launcher stops); `draining`: the old copy of an
 * edited provider, finishing its launches and deletes beside the new copy before it stops.
 */
export type ProviderStateName = 'starting' | 'running' | 'failed' | 'stopping' | 'draining';

/** One provider's state, as the engine reports it (web, metrics, component record). */
export interface ProviderState {
  /** The provider's `name`. */
  readonly name: string;
  /** Its `driver:`. */
  readonly driver: string;
  /** Where its lifecycle is. */
  readonly state: ProviderStateName;
  /** The last failure (start or stop), with what was thrown; kept while a retry is starting. */
  readonly error?: string;
  /** When it entered this state, ms since the epoch. */
  readonly since: number;
  /** While `failed`: when the next start attempt is due, ms since the epoch. */
  readonly retryAt?: number;
}

/** Every {@link ProviderStateName}, in lifecycle order (metrics publish one series per state). */
export const PROVIDER_STATE_NAMES: readonly ProviderStateName[] = ['starting', 'running', 'failed', 'stopping', 'draining'];
