/**
 * The metastatic create and delete state machines (spec drivers-config §3.3). Create: allocate a
 * slot (`start`), wait for a backing request if needed (`requesting`), re-verify the backing node
 * and complete with an instance carrying its connection data. Delete: free the slot.
 */
import { StateMachine, type CreateRequest, type Instance, type Logger, type PoolConfig } from '@nodepool-ts/sdk';
import { instanceOn, type SlotRequest } from './instance-on';
import type { AllocationResult, SlotAllocator } from './slot-allocator';

/** How often one launch may find its chosen backing node gone before it gives up the attempt. */
const MAX_RESTARTS = 20;

/** Create machine; see the module comment. */
export class MetastaticCreateMachine extends StateMachine {
  private readonly slotRequest: SlotRequest;
  private restarts = 0;

  constructor(
    private readonly allocator: SlotAllocator,
    request: CreateRequest,
    private readonly pool: PoolConfig,
    private readonly log: Logger,
  ) {
    super();
    this.slotRequest = { nodeId: request.nodeId, label: request.label, metadata: request.metadata };
    // externalId stays null (the instance carries it) on purpose: the launcher stores its copy
    // of the node whenever the machine's external id changes, and that copy has no driver_data
    // yet, so it would erase the slot claim written under the allocation lock until the
    // instance is applied — a window in which another launcher could hand out the same slot.
  }

  async advance(): Promise<Instance | undefined> {
    switch (this.state) {
      case 'start':
        return this.handle(await this.allocator.allocate(this.slotRequest));
      case 'requesting':
        return this.handle(await this.allocator.poll(this.slotRequest));
      default:
        throw new Error(`metastatic create machine in unexpected state ${this.state}`);
    }
  }

  private async handle(result: AllocationResult): Promise<Instance | undefined> {
    if (result.kind === 'waiting') {
      this.state = 'requesting';
      return undefined;
    }
    const backing = await this.allocator.confirm(this.slotRequest, result);
    if (!backing) {
      // The backing node went away between allocation and completion (§3.8 item 1): allocate
      // again from scratch without failing the attempt, within a sane bound.
      if (++this.restarts > MAX_RESTARTS) throw new Error(`backing nodes kept vanishing (${this.restarts} times)`);
      this.log.info('backing node vanished before completion; allocating again', { backing_node: result.record.backingNodeId });
      this.state = 'start';
      return undefined;
    }
    this.state = 'complete';
    this.complete = true;
    return instanceOn(backing, this.slotRequest, result.slot, this.pool);
  }
}


/** Delete machine: gives the slot back; the generic deleter removes the node record. */
export class MetastaticDeleteMachine extends StateMachine {
  constructor(
    private readonly allocator: SlotAllocator,
    private readonly nodeId: string,
  ) {
    super();
    this.externalId = nodeId;
  }

  async advance(): Promise<undefined> {
    await this.allocator.free(this.nodeId);
    this.state = 'complete';
    this.complete = true;
    return undefined;
  }
}
