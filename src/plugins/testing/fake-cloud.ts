/**
 * An in-memory cloud for driver and engine tests: instances boot after a number of `advance()`
 * calls (and/or some time), and faults are queued per create/delete so each test decides exactly
 * which launch fails, hangs or hits quota.
 */
import { QuotaInformation } from '../quota';
import { NotFoundError, QuotaError, StateMachine, type CreateRequest, type Instance } from '../state-machine';

/** One instance of the {@link FakeCloud}. */
export interface FakeInstance {
  /** Cloud id, `fake-<n>`. */
  id: string;
  /** Host name the launcher asked for (`np<node id>`). */
  hostname: string;
  /** Label it was created for. */
  label: string;
  /** Tags, including `nodepool_node_id`, `nodepool_pool_name`, `nodepool_provider_name`. */
  metadata: Record<string, string>;
  /** Its address (`interface_ip`). */
  ip: string;
  /** `building` until booted, `active` after, `deleting` while a delete runs. */
  status: 'building' | 'active' | 'deleting';
  /** Resources it uses (the label's, see {@link FakeCloudOptions.labelResources}). */
  resources: Record<string, number>;
}

/** Configuration of a {@link FakeCloud}. */
export interface FakeCloudOptions {
  /** `advance()` calls after the one that creates the instance before it is active (default 1). */
  bootSteps?: number;
  /** Minimum ms between create and active (default 0). */
  bootMs?: number;
  /**
   * Instance id prefix (default `fake`). Fake clouds of separate launcher processes that run one
   * provider name stand for one cloud: distinct prefixes keep their ids from colliding.
   */
  idPrefix?: string;
  /** Minimum ms a delete takes (default 0): fault tests kill a launcher while deletes run. */
  deleteMs?: number;
  /** Address of every instance; default `fake-10.0.0.<n>` (the `fake` makes nodescans instant). */
  ipAddress?: string;
  /** Cloud limits for {@link FakeCloud.quotaLimits}; unset keys are unlimited. */
  limits?: Record<string, number>;
  /** Resources per label (default `{instances: 1}`). */
  labelResources?: Record<string, Record<string, number>>;
  /** Extra attributes each instance reports (merged into `node.attributes`). */
  attributes?: Record<string, unknown>;
}

/** A queued fault for the next create or delete machines. */
type Fault = { kind: 'fail'; message: string } | { kind: 'hang' } | { kind: 'quota' };

/**
 * The cloud. Create machines take faults from the queue in creation order: `failNext(2)` makes
 * the next two launches create an instance and then throw, `hangNext()` makes one never finish,
 * `quotaNext()` makes one throw {@link QuotaError} before creating anything.
 */
export class FakeCloud {
  /** Instances by id. */
  readonly instances = new Map<string, FakeInstance>();
  /** Number of create / delete machines started. */
  creates = 0;
  /** Number of delete machines started. */
  deletes = 0;
  private seq = 0;
  private readonly createFaults: Fault[] = [];
  private readonly deleteFaults: string[] = [];

  constructor(readonly options: FakeCloudOptions = {}) {}

  /** The next `n` launches create an instance, then fail with `message`. */
  failNext(n = 1, message = 'fake boot failure'): this {
    for (let i = 0; i < n; i++) this.createFaults.push({ kind: 'fail', message });
    return this;
  }

  /** The next `n` launches create an instance that never becomes active. */
  hangNext(n = 1): this {
    for (let i = 0; i < n; i++) this.createFaults.push({ kind: 'hang' });
    return this;
  }

  /** The next `n` launches are refused with a {@link QuotaError}. */
  quotaNext(n = 1): this {
    for (let i = 0; i < n; i++) this.createFaults.push({ kind: 'quota' });
    return this;
  }

  /** The next `n` delete machines fail with `message` (instance kept). */
  failDeleteNext(n = 1, message = 'fake delete failure'): this {
    for (let i = 0; i < n; i++) this.deleteFaults.push(message);
    return this;
  }

  /** Resources one instance of `label` uses. */
  resourcesFor(label: string): Record<string, number> {
    // Every instance counts as one, whatever else its label declares (as a flavor's quota does).
    return { instances: 1, ...(this.options.labelResources?.[label] ?? {}) };
  }

  /** Cloud limits (unset resources unlimited). */
  quotaLimits(): QuotaInformation {
    return new QuotaInformation({ ...(this.options.limits ?? {}) }, Infinity);
  }

  /** Resources all instances use. */
  usage(): QuotaInformation {
    let total = new QuotaInformation();
    for (const inst of this.instances.values()) total = total.add(new QuotaInformation(inst.resources));
    return total;
  }

  /** Adds an instance directly (e.g. a leaked or foreign one). */
  addInstance(fields: Partial<FakeInstance> & { label: string }): FakeInstance {
    const n = ++this.seq;
    const inst: FakeInstance = {
      id: `${this.options.idPrefix ?? 'fake'}-${n}`, hostname: `host-${n}`, metadata: {}, ip: this.options.ipAddress ?? `fake-10.0.0.${n}`,
      status: 'active', resources: this.resourcesFor(fields.label), ...fields,
    };
    this.instances.set(inst.id, inst);
    return inst;
  }

  /** What the provider reports for an instance. */
  toInstance(inst: FakeInstance): Instance {
    return {
      externalId: inst.id,
      metadata: { ...inst.metadata },
      interfaceIp: inst.ip,
      publicIpv4: inst.ip,
      privateIpv4: inst.ip,
      publicIpv6: null,
      cloud: 'fake-cloud',
      region: 'fake-region',
      az: 'fake-az',
      hostId: `fake-host-${inst.id}`,
      quota: new QuotaInformation(inst.resources),
      driverData: { fake: true, status: inst.status },
      attributes: this.options.attributes ? { ...this.options.attributes } : undefined,
    };
  }

  /** A create machine for `request` (takes the next queued fault, if any). */
  createMachine(request: CreateRequest): StateMachine {
    this.creates++;
    return new FakeCreateMachine(this, request, this.createFaults.shift());
  }

  /** A delete machine for the instance `externalId`. */
  deleteMachine(externalId: unknown): StateMachine {
    this.deletes++;
    return new FakeDeleteMachine(this, String(externalId), this.deleteFaults.shift());
  }

  /** Creates the instance, or throws a quota error when the limits do not allow it. */
  launch(request: CreateRequest): FakeInstance {
    const resources = this.resourcesFor(request.label);
    if (!this.quotaLimits().subtract(this.usage()).subtract(new QuotaInformation(resources)).nonNegative()) {
      throw new QuotaError('fake cloud quota exceeded');
    }
    return this.addInstance({ hostname: request.hostname, label: request.label, metadata: { ...request.metadata }, status: 'building', resources });
  }
}

class FakeCreateMachine extends StateMachine {
  private instance: FakeInstance | undefined;
  private steps = 0;
  private createdAt = 0;

  constructor(
    private readonly cloud: FakeCloud,
    private readonly request: CreateRequest,
    private readonly fault: Fault | undefined,
  ) {
    super();
  }

  async advance(): Promise<Instance | undefined> {
    if (this.state === 'start') {
      if (this.fault?.kind === 'quota') throw new QuotaError('fake cloud: quota exceeded');
      this.instance = this.cloud.launch(this.request);
      this.externalId = this.instance.id;
      this.createdAt = performance.now();
      this.state = 'building';
      return undefined;
    }
    const inst = this.instance as FakeInstance;
    if (this.fault?.kind === 'fail') throw new Error(`${this.fault.message} (${inst.id})`);
    if (this.fault?.kind === 'hang') return undefined;
    if (!this.cloud.instances.has(inst.id)) throw new NotFoundError(`instance ${inst.id} vanished`);
    this.steps++;
    const bootSteps = this.cloud.options.bootSteps ?? 1;
    const bootMs = this.cloud.options.bootMs ?? 0;
    if (this.steps < bootSteps || performance.now() - this.createdAt < bootMs) return undefined;
    inst.status = 'active';
    this.state = 'active';
    this.complete = true;
    return this.cloud.toInstance(inst);
  }
}

class FakeDeleteMachine extends StateMachine {
  constructor(
    private readonly cloud: FakeCloud,
    private readonly id: string,
    private readonly fault: string | undefined,
  ) {
    super();
    this.externalId = id;
  }

  private startedAt = 0;

  async advance(): Promise<Instance | undefined> {
    if (this.fault !== undefined) throw new Error(`${this.fault} (${this.id})`);
    const inst = this.cloud.instances.get(this.id);
    if (this.state === 'start') {
      if (!inst) throw new NotFoundError(`instance ${this.id} not found`);
      inst.status = 'deleting';
      this.state = 'deleting';
      this.startedAt = performance.now();
      return undefined;
    }
    if (performance.now() - this.startedAt < (this.cloud.options.deleteMs ?? 0)) return undefined;
    this.cloud.instances.delete(this.id);
    this.state = 'deleted';
    this.complete = true;
    return undefined;
  }
}
