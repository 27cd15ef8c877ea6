/**
 * A conformance suite any driver can run: the real engine (through {@link startTestLauncher})
 * launches, deletes, pauses at quota, cleans up leaks and times out with the driver, against a
 * real ZooKeeper. The driver is seen from outside, as Zuul and an operator see it: through
 * ZooKeeper (requests, nodes, pool components) and through its cloud, which the author lists
 * with {@link DriverUnderTest.listInstances}. Each run uses its own ZooKeeper chroot, so runs
 * may share a server.
 */
import { randomBytes } from 'node:crypto';
import type { Node } from '../models/node';
import { startTestLauncher, type TestLauncher } from './start-test-launcher';
import { TestZooKeeperClient } from './test-zookeeper-client';

/** The driver as the suite sees it; made by the factory passed to {@link runDriverConformance}. */
export interface DriverUnderTest {
  /**
   * The `providers:` sections to run (usually one). Their pools must serve the labels of
   * {@link DriverUnderTest.labels}; the launcher and the test process must see the same cloud
   * (a real API, a simulator, a folder), since the launcher runs in a child process.
   */
  providers: Array<Record<string, unknown>>;
  /** The labels the tests request. */
  labels: {
    /** A label that launches normally. */
    launch: string;
    /**
     * A label of a pool that fits exactly one node at a time (`max-servers: 1`, or cloud
     * limits); its pool should serve no other label the suite uses.
     */
    quota: string;
    /**
     * A label whose launches never complete (the instance never becomes ready), with a short
     * `launch-timeout` and `launch-retries` of 1 or 2, so the request fails within seconds.
     */
    timeout: string;
  };
  /** External ids (as strings) of the instances the driver's cloud holds now. */
  listInstances(): Promise<string[]>;
  /**
   * Creates an instance the launcher did not launch but that is tagged as its own: provider
   * name in `nodepool_provider_name` and a `nodepool_node_id` no node has (a leak, as left by a
   * launcher that crashed). Returns its external id.
   */
  createLeakedInstance(): Promise<string>;
  /** Called once after the suite (remove temporary clouds, folders). */
  dispose?(): Promise<void>;
}

/** The test-runner functions the suite registers its tests with (jest and mocha globals by default). */
export interface ConformanceTestApi {
  /** Groups tests. */
  describe(name: string, fn: () => void): void;
  /** One test; `timeout` in ms. */
  it(name: string, fn: () => Promise<void>, timeout?: number): void;
  /** Runs once before the group's tests. */
  beforeAll(fn: () => Promise<void>, timeout?: number): void;
  /** Runs once after the group's tests. */
  afterAll(fn: () => Promise<void>, timeout?: number): void;
}

/** Options of {@link runDriverConformance}. */
export interface DriverConformanceOptions {
  /** ZooKeeper `host:port[,host:port]` (no chroot: the suite makes its own). */
  zookeeper: string;
  /** Plugin folders the launcher loads, the driver's among them (`--plugin-dirs`). */
  plugins: string[];
  /** Title of the test group (default `driver conformance`). */
  name?: string;
  /** How long each wait for the engine may take, ms (default 30000). */
  timeoutMs?: number;
  /** Folder of the `nodepool-ts` launcher package; see {@link StartTestLauncherOptions.launcherHome}. */
  launcherHome?: string;
  /** Extra environment of the launcher process. */
  env?: Record<string, string>;
  /** Test-runner functions; by default the globals `describe`, `it`, `beforeAll`/`before`, `afterAll`/`after`. */
  testApi?: ConformanceTestApi;
}

function globalTestApi(): ConformanceTestApi {
  const g = globalThis as unknown as Record<string, unknown>;
  const api = { describe: g.describe, it: g.it ?? g.test, beforeAll: g.beforeAll ?? g.before, afterAll: g.afterAll ?? g.after };
  if (Object.values(api).some((f) => typeof f !== 'function')) {
    throw new Error('runDriverConformance: no describe/it/beforeAll/afterAll globals (run it under jest or mocha, or pass options.testApi)');
  }
  return api as unknown as ConformanceTestApi;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(100);
  }
}

/**
 * Registers the conformance tests of a driver with the test runner:
 *
 * - launch: a request for `labels.launch` is fulfilled with a `ready` node of one of the
 *   providers, carrying an external id the cloud lists and an address (`interface_ip`);
 * - delete: the node returned `used` is deleted, record and instance;
 * - quota: with the `labels.quota` pool full, a second request waits (the pool reports itself
 *   paused) and is served once the first node is freed;
 * - leak cleanup: an instance tagged as the provider's without a node is deleted;
 * - timeouts: a request for `labels.timeout` fails once the launch attempts time out, and no
 *   instance of the attempts is left behind.
 *
 * @param factory makes the {@link DriverUnderTest} (called once, before the tests)
 * @param options where ZooKeeper and the plugins are
 */
export function runDriverConformance(factory: () => DriverUnderTest | Promise<DriverUnderTest>, options: DriverConformanceOptions): void {
  const api = options.testApi ?? globalTestApi();
  const waitMs = options.timeoutMs ?? 30_000;
  const testMs = waitMs * 3;
  let driver: DriverUnderTest;
  let zk: TestZooKeeperClient;
  let launcher: TestLauncher | undefined;
  const chroot = `/sdk-conformance-${randomBytes(4).toString('hex')}`;

  const withLog = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      const tail = launcher?.log().split('\n').slice(-25).join('\n') ?? '';
      (err as Error).message += `\n--- last lines of the launcher's log ---\n${tail}`;
      throw err;
    }
  };

  /** A node Zuul took: locked, `in-use`. */
  interface Taken {
    node: Node;
    unlock: () => Promise<void>;
  }

  /** Takes the nodes of a fulfilled request like Zuul: lock, delete the request, `in-use`. */
  const take = async (requestId: string, nodeId: string): Promise<Taken> => {
    const unlock = await zk.lockNode(nodeId);
    const node = await zk.getNode(nodeId);
    if (!node) throw new Error(`request ${requestId} was fulfilled with node ${nodeId}, which does not exist`);
    await zk.deleteRequest(requestId);
    await zk.setNodeState(nodeId, 'in-use');
    return { node, unlock };
  };

  /** Requests `label`, waits for fulfilment and takes the node. */
  const acquire = async (label: string): Promise<Taken> => {
    const id = await zk.submitRequest([label]);
    const request = await zk.waitForRequest(id, ['fulfilled', 'failed'], waitMs);
    if (request.state !== 'fulfilled') throw new Error(`request ${id} for ${label} failed (declined by [${request.declined_by.join(', ')}])`);
    return take(id, request.nodes[0]);
  };

  /** Returns the node like Zuul (`used`, unlock); waits until the launcher deleted record and instance. */
  const release = async ({ node, unlock }: Taken): Promise<void> => {
    await zk.setNodeState(node.id as string, 'used');
    await unlock();
    await waitFor(`node ${node.id} is deleted`, waitMs, async () => !(await zk.getNode(node.id as string)));
    const externalId = String(node.external_id);
    await waitFor(`instance ${externalId} of node ${node.id} is gone from the cloud`, waitMs, async () => !(await driver.listInstances()).includes(externalId));
  };

  api.describe(options.name ?? 'driver conformance', () => {
    api.beforeAll(async () => {
      driver = await factory();
      zk = await TestZooKeeperClient.connect({ hosts: options.zookeeper, chroot });
      launcher = await startTestLauncher({
        plugins: options.plugins,
        zookeeper: `${options.zookeeper}${chroot}`,
        providers: driver.providers,
        launcherHome: options.launcherHome,
        env: options.env,
      });
    }, testMs);

    api.afterAll(async () => {
      await launcher?.stop();
      if (zk) {
        await zk.removeTree('').catch(() => undefined);
        await zk.close();
      }
      await driver?.dispose?.();
    }, testMs);

    let launched: Taken | undefined;
    api.it('launches a node for a request', () => withLog(async () => {
      launched = await acquire(driver.labels.launch);
      const { node } = launched;
      const providers = driver.providers.map((p) => p.name);
      if (node.state !== 'ready') throw new Error(`node ${node.id} is ${node.state}, expected ready`);
      if (!providers.includes(node.provider)) throw new Error(`node ${node.id} has provider ${node.provider}, expected one of ${providers.join(', ')}`);
      if (node.external_id === null || node.external_id === undefined) throw new Error(`node ${node.id} has no external_id`);
      if (!node.interface_ip) throw new Error(`node ${node.id} has no interface_ip: Zuul could not reach it`);
      const instances = await driver.listInstances();
      if (!instances.includes(String(node.external_id))) throw new Error(`the cloud does not list instance ${String(node.external_id)} of node ${node.id} (it lists ${instances.join(', ') || 'nothing'})`);
    }), testMs);

    api.it('deletes a node returned as used, record and instance', () => withLog(async () => {
      const taken = launched ?? (await acquire(driver.labels.launch));
      launched = undefined;
      await release(taken);
    }), testMs);

    api.it('waits at quota and serves the waiting request once a node is freed', () => withLog(async () => {
      const label = driver.labels.quota;
      const first = await acquire(label);
      const second = await zk.submitRequest([label]);
      await waitFor('a pool reports itself paused at quota', waitMs, async () => (await zk.poolComponents()).some((p) => p.paused === true));
      const waiting = await zk.getRequest(second);
      if (waiting?.state === 'fulfilled' || waiting?.state === 'failed') throw new Error(`request ${second} was ${waiting.state} while the pool was full`);
      await release(first);
      const served = await zk.waitForRequest(second, ['fulfilled', 'failed'], waitMs);
      if (served.state !== 'fulfilled') throw new Error(`request ${second} failed after the pool had room again`);
      await release(await take(second, served.nodes[0]));
    }), testMs);

    api.it('deletes a leaked instance', () => withLog(async () => {
      const leaked = await driver.createLeakedInstance();
      if (!(await driver.listInstances()).includes(leaked)) throw new Error(`createLeakedInstance returned ${leaked}, which listInstances does not list`);
      await waitFor(`leaked instance ${leaked} is deleted`, waitMs, async () => !(await driver.listInstances()).includes(leaked));
    }), testMs);

    api.it('fails a request whose launches time out and leaves no instance behind', () => withLog(async () => {
      const before = new Set(await driver.listInstances());
      const id = await zk.submitRequest([driver.labels.timeout]);
      const request = await zk.waitForRequest(id, ['fulfilled', 'failed'], waitMs);
      await zk.deleteRequest(id);
      if (request.state !== 'failed') throw new Error(`request ${id} for the timeout label was ${request.state}, expected failed`);
      await waitFor('the instances of the timed-out attempts are deleted', waitMs, async () => (await driver.listInstances()).every((i) => before.has(i)));
      await waitFor('the node records of the attempts are deleted', waitMs, async () => (await zk.listNodes()).every((n) => n.type[0] !== driver.labels.timeout));
    }), testMs);
  });
}
