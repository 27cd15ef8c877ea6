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
  private registration: ComponentRegistration<ComponentRecord & { nodepool_ts_providers?: PublishedProvider[]; nodepool_ts_announces_providers?: boolean }> | undefined;
  private providers: PublishedProvider[] = [];
  private published = false;
  /** The provider states last written to ZooKeeper (JSON). */
  private onZooKeeper = '';
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
      await this.write(registration).catch(() => undefined);
    });
  }

  private async write(registration: NonNullable<LauncherComponent['registration']>): Promise<void> {
    const providers = JSON.stringify(this.providers);
    await registration.update({ nodepool_ts_providers: this.providers, nodepool_ts_announces_providers: true });
    this.onZooKeeper = providers;
  }

  /**
   * Resolves when the provider states set so far are written (or their write failed). The engine
   * waits for it before it starts a provider: other launchers leave node creates unread only
   * while no launcher that announced a provider they run could create its nodes (issue 17).
   */
  async written(): Promise<void> {
    await this.writing;
    // A write lost to a session problem is retried: the states must be out before the start.
    while (this.registration && this.onZooKeeper !== JSON.stringify(this.providers)) {
      await this.write(this.registration).catch(async () => {
        await new Promise((r) => setTimeout(r, 500));
      });
    }
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
    this.registration = await this.zk.registerComponent(
      'launcher',
      this.published ? { ...record, nodepool_ts_providers: this.providers, nodepool_ts_announces_providers: true } : record,
    );
    if (this.published) this.onZooKeeper = JSON.stringify(this.providers);
  }

  async stop(): Promise<void> {
    await this.writing;
    await this.registration?.unregister();
    this.registration = undefined;
  }
}
