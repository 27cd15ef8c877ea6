import type { LifecycleContribution } from '../../plugins/lifecycle';
import type { ComponentRegistration, ZooKeeper } from '../../plugins/zookeeper';
import { MODEL_API, type ComponentRecord } from '../../zk/models/component';

/** Version string published in component records. */
export const VERSION: string = (require('../../../package.json') as { version: string }).version;

/**
 * The process's `launcher` component record (`/nodepool/components/launcher/<host><seq>`), which
 * Zuul and `nodepool` list. Ephemeral: registered on start, re-created by the ZooKeeper layer after
 * a session loss, removed on stop.
 */
export class LauncherComponent implements LifecycleContribution {
  readonly name = 'launcher-component';
  private registration: ComponentRegistration | undefined;

  constructor(private readonly zk: ZooKeeper, private readonly hostname: string) {}

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
    this.registration = await this.zk.registerComponent('launcher', record);
  }

  async stop(): Promise<void> {
    await this.registration?.unregister();
    this.registration = undefined;
  }
}
