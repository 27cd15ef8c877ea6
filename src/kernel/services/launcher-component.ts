import type { LifecycleContribution } from '../../plugins/lifecycle';
import type { ProviderState } from '../../plugins/provider-state';
import type { ComponentRegistration, ZooKeeper } from '../../plugins/zookeeper';
import { MODEL_API, type ComponentRecord } from '../../zk/models/component';

/** Token of the process's {@link LauncherComponent} (kernel-internal: the engine publishes provider states in it). */
export const LauncherComponentToken: unique symbol = Symbol.for('nodepool-ts.kernel.LauncherComponent');

/** One provider in the record's `nodepool_ts_providers` (Nodepool's readers keep unknown keys as they are). */
type PublishedProvider = Pick<ProviderState, 'name' | 'driver' | 'state' | 'error'>;

/** Version string published in component records. */
export const VERSION: string = (require('../../../package.json') as { version: string }).version;

/**
 * The process's `launcher` component record (`/nodepool/components/launcher/<host><seq>`), which
 * Zuul and `nodepool` list. Ephemeral: registered on start, re-created by the ZooKeeper layer after
 * a session loss, removed on stop.
 */
export class LauncherComponent implements LifecycleContribution {
  readonly name = 'launcher-component';
  private registration: ComponentRegistration<ComponentRecord & { nodepool_ts_providers?: PublishedProvider[] }> | undefined;
  private providers: PublishedProvider[] = [];
  private published = false;
  /** Writes in order, one at a time; a write only ever sends the latest states. */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly zk: ZooKeeper, private readonly hostname: string) {}

  /** Publishes each provider's state in the record (`nodepool_ts_providers`), so other tools see a failed provider. */
  setProviders(states: readonly ProviderState[]): void {
    const next = states.map((p) => ({ name: p.name, driver: p.driver, state: p.state, ...(p.error !== undefined ? { error: p.error } : {}) }));
    if (this.published && JSON.stringify(next) === JSON.stringify(this.providers)) return;
    this.published = true;
    this.providers = next;
    this.writing = this.writing.then(async () => {
      const registration = this.registration;
      if (!registration || JSON.stringify(registration.content.nodepool_ts_providers) === JSON.stringify(this.providers)) return;
      // A lost session re-registers with the content as last written; the next change retries.
      await registration.update({ nodepool_ts_providers: this.providers }).catch(() => undefined);
    });
  }

  /** The znode path of the registration, while registered. */
  get path(): string | undefined {
    return this.registration?.path ?? undefined;
  }

  async start(): Promise<void> {
    const record: ComponentRecord = {
      hostname: this.hostname,
      kind: 'launcher',
      state: 'running',
      version: `${VERSION} nodepool-ts`,
      model_api: MODEL_API,
    };
    // The key appears once an engine publishes provider states (a bare kernel has none).
    this.registration = await this.zk.registerComponent('launcher', this.published ? { ...record, nodepool_ts_providers: this.providers } : record);
  }

  async stop(): Promise<void> {
    await this.writing;
    await this.registration?.unregister();
    this.registration = undefined;
  }
}
