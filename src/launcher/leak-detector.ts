/**
 * CleanupWorker task "leaked cloud resources" (spec §4.6.2, SM:883-944): an instance or resource
 * tagged with our provider name whose `nodepool_node_id` is not in ZooKeeper is deleted, but only
 * when it was already seen leaked on the previous pass, so an instance whose node record is being
 * written right now is never taken for a leak. Untagged things and other providers' are never
 * touched. The tags and the rule are the SDK's (`leak-tags.ts`), so drivers can follow them.
 */
import { collect } from './provider-runtime';
import type { Provider } from '../plugins/driver';
import { isLeaked, LeakSightings, NODE_ID_TAG } from '../plugins/leak-tags';
import type { Logger } from '../plugins/logger';
import { runStateMachine } from '../plugins/run-state-machine';
import { NotFoundError } from '../plugins/state-machine';
import type { ZooKeeper } from '../plugins/zookeeper';

/** What one pass did. */
export interface LeakPassResult {
  /** Seen leaked for the first time (kept for now). */
  suspected: string[];
  /** Deleted (seen leaked twice). */
  deleted: string[];
}

/** Remembers, per provider, what looked leaked on the previous pass. */
export class LeakDetector {
  private readonly sightings = new LeakSightings();

  constructor(
    private readonly provider: Provider,
    private readonly zk: ZooKeeper,
    private readonly logger: Logger,
    private readonly deleteTimeoutMs = 600_000,
  ) {}

  /** One pass over instances and other resources. */
  async pass(): Promise<LeakPassResult> {
    const { provider } = this;
    const result: LeakPassResult = { suspected: [], deleted: [] };
    if (!provider.listInstances && !provider.listResources) return result;
    // Instances are listed BEFORE the node ids are read: an instance created after the node
    // listing cannot be mistaken for a leak.
    const instances = provider.listInstances ? await collect(provider.listInstances()) : [];
    const resources = provider.listResources ? await collect(provider.listResources()) : [];
    const nodeIds = new Set(await this.zk.getNodeIds());
    const leakedInstances = new Map(instances.filter((i) => isLeaked(i.metadata, provider.name, nodeIds)).map((i) => [`instance:${String(i.externalId)}`, i]));
    const leakedResources = new Map(resources.filter((r) => isLeaked(r.metadata, provider.name, nodeIds)).map((r) => [`${r.type}:${r.id}`, r]));
    const { confirmed, suspected } = this.sightings.pass([...leakedInstances.keys(), ...leakedResources.keys()]);
    result.suspected.push(...suspected);
    for (const key of confirmed) {
      const instance = leakedInstances.get(key);
      if (instance) {
        await this.guard(key, async () => {
          if (!provider.getDeleteStateMachine) return;
          this.logger.warn('deleting leaked instance', { provider: provider.name, external_id: instance.externalId, node: instance.metadata[NODE_ID_TAG] });
          await runStateMachine(provider.getDeleteStateMachine(instance.externalId, this.logger), { timeoutMs: this.deleteTimeoutMs, what: 'delete' });
          result.deleted.push(key);
        });
        continue;
      }
      const resource = leakedResources.get(key);
      if (!resource) continue;
      await this.guard(key, async () => {
        if (!provider.deleteResource) return;
        this.logger.warn(`deleting leaked ${resource.type}`, { provider: provider.name, id: resource.id });
        await provider.deleteResource(resource);
        result.deleted.push(key);
      });
    }
    return result;
  }

  private async guard(key: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof NotFoundError) return;
      this.logger.error(`deleting leaked ${key} failed`, { provider: this.provider.name, err: (err as Error).message });
    }
  }
}
