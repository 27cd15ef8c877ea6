/**
 * CleanupWorker task "leaked cloud resources" (spec §4.6.2, SM:883-944): an instance or resource
 * tagged with our provider name whose `nodepool_node_id` is not in ZooKeeper is deleted, but only
 * when it was already seen leaked on the previous pass, so an instance whose node record is being
 * written right now is never taken for a leak. Untagged things and other providers' are never
 * touched.
 */
import { collect } from './provider-runtime';
import type { Provider } from '../plugins/driver';
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
  private previous = new Set<string>();

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
    const current = new Set<string>();
    const isLeak = (md: Record<string, string> | undefined): boolean =>
      md?.nodepool_provider_name === provider.name && typeof md.nodepool_node_id === 'string' && !nodeIds.has(md.nodepool_node_id);

    for (const instance of instances) {
      if (!isLeak(instance.metadata)) continue;
      const key = `instance:${String(instance.externalId)}`;
      current.add(key);
      if (!this.previous.has(key)) {
        result.suspected.push(key);
        continue;
      }
      await this.guard(key, async () => {
        if (!provider.getDeleteStateMachine) return;
        this.logger.warn('deleting leaked instance', { provider: provider.name, external_id: instance.externalId, node: instance.metadata.nodepool_node_id });
        await runStateMachine(provider.getDeleteStateMachine(instance.externalId, this.logger), { timeoutMs: this.deleteTimeoutMs, what: 'delete' });
        result.deleted.push(key);
      });
    }
    for (const resource of resources) {
      if (!isLeak(resource.metadata)) continue;
      const key = `${resource.type}:${resource.id}`;
      current.add(key);
      if (!this.previous.has(key)) {
        result.suspected.push(key);
        continue;
      }
      await this.guard(key, async () => {
        if (!provider.deleteResource) return;
        this.logger.warn(`deleting leaked ${resource.type}`, { provider: provider.name, id: resource.id });
        await provider.deleteResource(resource);
        result.deleted.push(key);
      });
    }
    this.previous = current;
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
