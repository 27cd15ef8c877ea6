/**
 * Zuul's side of the Nodepool protocol, reduced to what a driver test needs: submit a node
 * request, wait for its outcome, take and return its nodes, read node records and pool
 * components. Talks to ZooKeeper directly (node-zookeeper-client), so the test kit needs nothing
 * of the launcher's own ZooKeeper layer. All paths may live under a chroot, so several test runs
 * can share one ZooKeeper server.
 */
import { randomUUID } from 'node:crypto';
import zookeeper from 'node-zookeeper-client';
import { Node } from '../models/node';
import { NodeRequest, type RequestState } from '../models/node-request';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type ZkClient = ReturnType<typeof zookeeper.createClient>;
type ZkError = Error & { getCode?: () => number };

const NO_NODE = zookeeper.Exception.NO_NODE;
const NODE_EXISTS = zookeeper.Exception.NODE_EXISTS;
const NOT_EMPTY = zookeeper.Exception.NOT_EMPTY;

function codeOf(err: unknown): number | undefined {
  return (err as ZkError)?.getCode?.();
}

/** The client's errors carry no path: name the operation and the znode. */
function named(err: unknown, operation: string, path: string): Error {
  return new Error(`ZooKeeper ${operation} ${path}: ${(err as Error).message}`);
}

/** Options of {@link TestZooKeeperClient.connect}. */
export interface TestZooKeeperClientOptions {
  /** `host:port[,host:port]` of the server (no chroot here: see `chroot`). */
  hosts: string;
  /** Path prefix of every path this client touches, e.g. `/conformance-1` ('' for none). */
  chroot?: string;
  /** How long to wait for the connection, ms (default 15000). */
  connectTimeoutMs?: number;
}

/** See the module comment. */
export class TestZooKeeperClient {
  private constructor(
    private readonly client: ZkClient,
    /** The chroot prefix ('' for none). */
    readonly chroot: string,
  ) {}

  /** Connects (and creates the chroot path). */
  static async connect(options: TestZooKeeperClientOptions): Promise<TestZooKeeperClient> {
    const client = zookeeper.createClient(options.hosts, { sessionTimeout: 10_000, spinDelay: 200, retries: 2 });
    const timeoutMs = options.connectTimeoutMs ?? 15_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.close();
        reject(new Error(`cannot connect to ZooKeeper at ${options.hosts} within ${timeoutMs} ms`));
      }, timeoutMs);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.connect();
    });
    const chroot = (options.chroot ?? '').replace(/\/+$/, '');
    const self = new TestZooKeeperClient(client, chroot);
    if (chroot) await self.mkdirp('');
    return self;
  }

  /** Closes the session. */
  async close(): Promise<void> {
    this.client.close();
  }

  /**
   * Submits a node request for `labels` the way Zuul does (a persistent sequential znode
   * `/nodepool/requests/200-…` with every key of the request body); returns its id.
   */
  async submitRequest(labels: string[], requestor = 'sdk-test'): Promise<string> {
    const request = new NodeRequest();
    request.node_types = [...labels];
    request.requestor = requestor;
    request.requestor_data = { tenant_name: 'tenant-one', job_name: 'sdk-test-job' };
    request.tenant_name = 'tenant-one';
    request.created_time = Date.now() / 1000;
    await this.mkdirp('/nodepool/requests');
    const created = await new Promise<string>((resolve, reject) =>
      this.client.create(this.at('/nodepool/requests/200-'), request.serialize(), zookeeper.CreateMode.PERSISTENT_SEQUENTIAL, (err, p) => (err ? reject(named(err, 'create', this.at('/nodepool/requests/200-'))) : resolve(p))),
    );
    return created.slice(created.lastIndexOf('/') + 1);
  }

  /** The request, or undefined once it is gone. */
  async getRequest(id: string): Promise<NodeRequest | undefined> {
    const data = await this.getData(`/nodepool/requests/${id}`);
    if (!data) return undefined;
    return NodeRequest.fromDict(id, JSON.parse(data.toString('utf8')) as Record<string, unknown>);
  }

  /** Polls until the request is in one of `states`; throws naming its last state after `timeoutMs`. */
  async waitForRequest(id: string, states: readonly RequestState[], timeoutMs: number): Promise<NodeRequest> {
    const end = Date.now() + timeoutMs;
    let last: NodeRequest | undefined;
    for (;;) {
      last = await this.getRequest(id);
      if (last && states.includes(last.state)) return last;
      if (Date.now() > end) {
        throw new Error(`request ${id} not ${states.join('/')} within ${timeoutMs} ms (it is ${last ? `${last.state}, declined by [${last.declined_by.join(', ')}]` : 'gone'})`);
      }
      await sleep(100);
    }
  }

  /** Removes a request (Zuul does once it has taken the nodes, or gave up). */
  async deleteRequest(id: string): Promise<void> {
    await this.remove(`/nodepool/requests/${id}`);
  }

  /** The node record, or undefined when there is none. */
  async getNode(id: string): Promise<Node | undefined> {
    const data = await this.getData(`/nodepool/nodes/${id}`);
    return data ? Node.parse(id, data, -1, `/nodepool/nodes/${id}`) : undefined;
  }

  /** Every node record. */
  async listNodes(): Promise<Node[]> {
    const nodes: Node[] = [];
    for (const id of await this.children('/nodepool/nodes')) {
      const node = await this.getNode(id).catch(() => undefined);
      if (node) nodes.push(node);
    }
    return nodes;
  }

  /**
   * Takes the node lock as Zuul does while it owns a node (kazoo's lock recipe: an ephemeral
   * sequential `<uuid>__lock__<seq>` contender under `/nodepool/nodes/<id>/lock`, held once it
   * is the lowest). The launcher deletes an `in-use` node nobody holds locked, as Nodepool does.
   * Resolves with the unlock function.
   */
  async lockNode(id: string, timeoutMs = 10_000): Promise<() => Promise<void>> {
    const dir = `/nodepool/nodes/${id}/lock`;
    await this.mkdirp(dir);
    const created = await new Promise<string>((resolve, reject) =>
      this.client.create(this.at(`${dir}/${randomUUID().replace(/-/g, '')}__lock__`), Buffer.from('sdk-test'), zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, (err, p) => (err ? reject(named(err, 'create', this.at(dir))) : resolve(p))),
    );
    const mine = created.slice(created.lastIndexOf('/') + 1);
    const seq = (name: string): number => Number(name.slice(name.lastIndexOf('__lock__') + 8));
    const unlock = (): Promise<void> => this.remove(`${dir}/${mine}`);
    const end = Date.now() + timeoutMs;
    for (;;) {
      const contenders = (await this.children(dir)).filter((c) => c.includes('__lock__')).sort((a, b) => seq(a) - seq(b));
      if (contenders[0] === mine) return unlock;
      if (Date.now() > end) {
        await unlock();
        throw new Error(`node ${id} stayed locked by another holder for ${timeoutMs} ms`);
      }
      await sleep(50);
    }
  }

  /**
   * Sets a node's state as Zuul does while it holds the node's lock ({@link lockNode}): `in-use`
   * while a job runs, `used` when it returns the node (then unlocks; the launcher deletes it).
   */
  async setNodeState(id: string, state: 'in-use' | 'used' | 'hold'): Promise<void> {
    const found = await this.getDataAndVersion(`/nodepool/nodes/${id}`);
    if (!found) throw new Error(`node ${id} does not exist`);
    const node = Node.parse(id, found.data, found.version, `/nodepool/nodes/${id}`);
    node.state = state;
    await new Promise<void>((resolve, reject) =>
      this.client.setData(this.at(`/nodepool/nodes/${id}`), node.serialize(), found.version, (err) => (err ? reject(named(err, 'setData', this.at(`/nodepool/nodes/${id}`))) : resolve())),
    );
  }

  /** Bodies of the pool component records (`/nodepool/components/pool/*`): `paused`, `provider_name`, …. */
  async poolComponents(): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = [];
    for (const child of await this.children('/nodepool/components/pool')) {
      const data = await this.getData(`/nodepool/components/pool/${child}`);
      if (data) out.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    }
    return out;
  }

  /** Removes `path` (relative to the chroot) and everything below it; '' removes the chroot itself. */
  async removeTree(path: string): Promise<void> {
    for (const child of await this.children(path)) await this.removeTree(`${path}/${child}`);
    if (path || this.chroot) await this.remove(path);
  }

  private at(path: string): string {
    return `${this.chroot}${path}` || '/';
  }

  private async getData(path: string): Promise<Buffer | undefined> {
    return (await this.getDataAndVersion(path))?.data;
  }

  private getDataAndVersion(path: string): Promise<{ data: Buffer; version: number } | undefined> {
    return new Promise((resolve, reject) =>
      this.client.getData(this.at(path), (err, data, stat) => {
        if (codeOf(err) === NO_NODE) resolve(undefined);
        else if (err) reject(named(err, 'getData', this.at(path)));
        else resolve({ data: data ?? Buffer.alloc(0), version: stat.version });
      }),
    );
  }

  private children(path: string): Promise<string[]> {
    return new Promise((resolve, reject) =>
      this.client.getChildren(this.at(path), (err, children) => {
        if (codeOf(err) === NO_NODE) resolve([]);
        else if (err) reject(named(err, 'getChildren', this.at(path)));
        else resolve(children.sort());
      }),
    );
  }

  private remove(path: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.remove(this.at(path), -1, (err) => {
        if (!err || codeOf(err) === NO_NODE) resolve();
        else if (codeOf(err) === NOT_EMPTY) reject(new Error(`${this.at(path)} is not empty`));
        else reject(named(err, 'delete', this.at(path)));
      }),
    );
  }

  private mkdirp(path: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.mkdirp(this.at(path), (err) => (!err || codeOf(err) === NODE_EXISTS ? resolve() : reject(named(err, 'mkdirp', this.at(path))))),
    );
  }
}
