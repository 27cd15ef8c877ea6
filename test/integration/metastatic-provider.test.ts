/**
 * The metastatic provider on a real ZooKeeper (spec drivers-config §3): backing nodes come from a
 * static launcher through ordinary node requests; metastatic nodes are launched and deleted with
 * the SDK's NodeLauncher / NodeDeleter. Covers the persisted data layout, slot allocation,
 * grace-time, min-retention-time, max-age, a backing node deleted behind our back and nodescan
 * failure.
 */
import { NODE_BODY_KEYS } from '../../src/zk/models/node';
import { metastaticTestFile, META, OWNER, TestClock, metastaticConfig, waitUntil } from '../support/metastatic-harness';

jest.setTimeout(60000);

const h = metastaticTestFile();

const LABEL = (opts: string): string => `      - name: user-label\n        backing-label: backing\n${opts}`;

describe('metastatic provider', () => {
  it('requests a backing node with priority 100 as NodePool:metastatic:<provider>, holds it persistently and shares its slots', async () => {
    const clock = new TestClock();
    const a = await h.startMeta(metastaticConfig(LABEL('        max-parallel-jobs: 2\n')), clock);
    const launching = h.launch(a, 'user-label');
    // No static launcher yet: the backing request waits and can be inspected.
    const request = await waitUntil('the backing request', async () => (await h.zk.getNodeRequests())[0]);
    expect(request.id).toMatch(/^100-\d{10}$/);
    expect(request).toMatchObject({ node_types: ['backing'], requestor: OWNER, state: 'requested' });
    expect((await h.client.exists(`/nodepool/requests/${request.id}`))?.ephemeral).toBe(true);

    await h.startStatic(['127.0.0.1', '127.0.0.2']);
    const { node: n1, result } = await launching;
    expect(result).toEqual({ state: 'ready', attempts: 1, statsKey: 'ready' });
    expect(await h.zk.getNodeRequest(request.id as string)).toBeUndefined(); // deleted after the claim

    const backingId = (n1.driver_data as { backing_node: string }).backing_node;
    const backingNode = await h.zk.getNode(backingId);
    expect(backingNode?.provider).toBe('static-backing');
    const backing = await h.backing(backingId);
    expect(backing).toMatchObject({ state: 'in-use', contenders: [OWNER], persistent: true });
    expect(backing?.data).toEqual({ owner: OWNER, label: 'user-label', slots: 2, failed: false, launched: clock.t });
    expect(backingNode?.user_data).toBe(`{"owner": "${OWNER}", "label": "user-label", "slots": 2, "failed": false, "launched": ${clock.t}}`);

    const body = JSON.parse((await h.client.get(`/nodepool/nodes/${n1.id}`)).data!.toString()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([...NODE_BODY_KEYS].sort());
    expect(body).toMatchObject({
      state: 'ready', provider: META, pool: 'main', type: ['user-label'], external_id: n1.id, slot: 0,
      interface_ip: backingNode?.interface_ip, username: backingNode?.username, connection_port: backingNode?.connection_port,
      connection_type: backingNode?.connection_type, python_path: backingNode?.python_path, host_keys: backingNode?.host_keys,
      resources: { cores: 0, instances: 1, ram: 0 }, image_id: 'unused',
      attributes: { backattr: 'back', metaattr: 'meta' },
      driver_data: {
        metadata: { nodepool_node_id: n1.id, nodepool_pool_name: 'main', nodepool_provider_name: META },
        backing_node: backingId, slot: 0, node: n1.id,
      },
    });

    // Second node: same backing node, next slot, no new request. Third: a new backing node.
    const { node: n2 } = await h.launch(a, 'user-label');
    expect(n2.driver_data).toMatchObject({ backing_node: backingId, slot: 1 });
    expect(n2.slot).toBe(1);
    const { node: n3, result: r3 } = await h.launch(a, 'user-label');
    expect(r3.state).toBe('ready');
    expect((n3.driver_data as { backing_node: string }).backing_node).not.toBe(backingId);
    expect(n3.slot).toBe(0);
  });

  it('grace-time: an empty backing node is kept for grace-time, then released (used, our lock removed)', async () => {
    const clock = new TestClock();
    const a = await h.startMeta(metastaticConfig(LABEL('        grace-time: 30\n')), clock);
    await h.startStatic(['127.0.0.1']);
    const { node } = await h.launch(a, 'user-label');
    const backingId = (node.driver_data as { backing_node: string }).backing_node;
    await h.remove(a, node);

    clock.advance(20);
    await a.provider.cleanup();
    expect(await h.backing(backingId)).toMatchObject({ state: 'in-use', contenders: [OWNER] });
    expect(a.provider.allocator.describe().map((r) => r.backingNodeId)).toEqual([backingId]);

    clock.advance(11);
    await a.provider.cleanup();
    expect(a.provider.allocator.describe()).toEqual([]);
    // Released: `used` and unlocked, so the static launcher deletes it and registers the host anew.
    await waitUntil('the backing node deleted by its provider', async () => !(await h.zk.getNode(backingId)));
    await waitUntil('the static host re-registered', async () => (await h.nodesOf('static-backing', 'ready')).length === 1);
  });

  it('grace-time does not release a backing node that still backs a node', async () => {
    const clock = new TestClock();
    const a = await h.startMeta(metastaticConfig(LABEL('        grace-time: 0\n')), clock);
    await h.startStatic(['127.0.0.1']);
    const { node } = await h.launch(a, 'user-label');
    const backingId = (node.driver_data as { backing_node: string }).backing_node;
    clock.advance(1000);
    await a.provider.cleanup();
    expect(await h.backing(backingId)).toMatchObject({ state: 'in-use', contenders: [OWNER] });
  });

  it('min-retention-time: an empty backing node is kept until min-retention-time after launch', async () => {
    const clock = new TestClock();
    const a = await h.startMeta(metastaticConfig(LABEL('        grace-time: 1\n        min-retention-time: 300\n')), clock);
    await h.startStatic(['127.0.0.1']);
    const { node } = await h.launch(a, 'user-label');
    const backingId = (node.driver_data as { backing_node: string }).backing_node;
    await h.remove(a, node);

    clock.advance(200); // well past grace-time, not past min-retention-time
    await a.provider.cleanup();
    expect(await h.backing(backingId)).toMatchObject({ state: 'in-use', contenders: [OWNER] });
    // Still usable meanwhile: a new node goes onto it.
    const { node: again } = await h.launch(a, 'user-label');
    expect(again.driver_data).toMatchObject({ backing_node: backingId });
    await h.remove(a, again);

    clock.advance(101);
    await a.provider.cleanup();
    expect((await h.backing(backingId))?.state ?? 'gone').not.toBe('in-use');
  });

  it('max-age: no new slots after max-age; released as soon as empty, ignoring grace-time', async () => {
    const clock = new TestClock();
    const a = await h.startMeta(metastaticConfig(LABEL('        max-parallel-jobs: 2\n        grace-time: 600\n        max-age: 100\n')), clock);
    await h.startStatic(['127.0.0.1', '127.0.0.2']);
    const { node: n1 } = await h.launch(a, 'user-label');
    const x = (n1.driver_data as { backing_node: string }).backing_node;

    clock.advance(101);
    const { node: n2, result } = await h.launch(a, 'user-label');
    expect(result).toMatchObject({ state: 'ready', attempts: 1 });
    const y = (n2.driver_data as { backing_node: string }).backing_node;
    expect(y).not.toBe(x); // X had a free slot, but is past max-age

    await a.provider.cleanup();
    expect(await h.backing(x)).toMatchObject({ state: 'in-use' }); // n1 still on it
    await h.remove(a, n1);
    await a.provider.cleanup(); // grace-time 600 has not passed, max-age wins
    expect((await h.backing(x))?.state ?? 'gone').not.toBe('in-use');
    expect(await h.backing(y)).toMatchObject({ state: 'in-use', contenders: [OWNER] });
  });

  it('a backing node deleted behind our back: the record is pruned and the next node gets a new backing node', async () => {
    const clock = new TestClock();
    const a = await h.startMeta(metastaticConfig(LABEL('        max-parallel-jobs: 2\n')), clock);
    await h.startStatic(['127.0.0.1', '127.0.0.2']);
    const { node: n1 } = await h.launch(a, 'user-label');
    const x = (n1.driver_data as { backing_node: string }).backing_node;
    await h.client.deleteRecursive(`/nodepool/nodes/${x}`);

    const { node: n2, result } = await h.launch(a, 'user-label');
    expect(result).toEqual({ state: 'ready', attempts: 1, statsKey: 'ready' });
    const y = (n2.driver_data as { backing_node: string }).backing_node;
    expect(y).not.toBe(x);
    expect(a.provider.allocator.describe().map((r) => r.backingNodeId)).toEqual([y]);
    // Release and cleanup do not trip over the vanished node either.
    await h.remove(a, n1);
    await a.provider.cleanup();
    expect(await h.zk.getNode(x)).toBeUndefined();
  });

  it('a backing node lost between allocation and completion: allocate again from scratch, same attempt', async () => {
    const clock = new TestClock();
    const a = await h.startMeta(metastaticConfig(LABEL('        max-parallel-jobs: 2\n')), clock);
    await h.startStatic(['127.0.0.1', '127.0.0.2']);
    const { node: n1 } = await h.launch(a, 'user-label');
    const x = (n1.driver_data as { backing_node: string }).backing_node;
    // Another launcher releases X right after our allocation put n2 on it (real ZooKeeper writes,
    // injected at the one moment a race would hit).
    const allocator = a.provider.allocator;
    const confirm = allocator.confirm.bind(allocator);
    let injected = false;
    jest.spyOn(allocator, 'confirm').mockImplementation(async (req, allocation) => {
      if (!injected && allocation.record.backingNodeId === x) {
        injected = true;
        const bx = (await h.zk.getNode(x))!;
        bx.state = 'used';
        await h.zk.storeNode(bx);
        await h.zk.forceUnlockNode(x);
      }
      return confirm(req, allocation);
    });
    const { node: n2, result } = await h.launch(a, 'user-label');
    expect(injected).toBe(true);
    expect(result).toEqual({ state: 'ready', attempts: 1, statsKey: 'ready' });
    expect((n2.driver_data as { backing_node: string }).backing_node).not.toBe(x);
    expect(allocator.describe().map((r) => r.backingNodeId)).not.toContain(x);
  });

  it('a backing node released (used) by someone else is not handed out', async () => {
    const clock = new TestClock();
    const a = await h.startMeta(metastaticConfig(LABEL('        max-parallel-jobs: 2\n')), clock);
    await h.startStatic(['127.0.0.1', '127.0.0.2']);
    const { node: n1 } = await h.launch(a, 'user-label');
    const x = (n1.driver_data as { backing_node: string }).backing_node;
    await h.remove(a, n1);
    // Another actor sets it used (e.g. an operator or the other launcher) but our lock stays.
    const bx = await h.zk.getNode(x);
    bx!.state = 'used';
    await h.zk.storeNode(bx!);
    const { node: n2, result } = await h.launch(a, 'user-label');
    expect(result.attempts).toBe(1);
    expect((n2.driver_data as { backing_node: string }).backing_node).not.toBe(x);
  });

  it('only a backing node with a free slot is verified in ZooKeeper (three reads each), not the full ones', async () => {
    const a = await h.startMeta(metastaticConfig(LABEL('        max-parallel-jobs: 1\n')), new TestClock());
    await h.startStatic(['127.0.0.1', '127.0.0.2']);
    const { node: n1 } = await h.launch(a, 'user-label');
    const { node: n2 } = await h.launch(a, 'user-label');
    const [x, y] = [n1, n2].map((n) => (n.driver_data as { backing_node: string }).backing_node);
    expect(x).not.toBe(y);
    await h.remove(a, n2); // Y has a free slot; X, first in order, is full
    const get = jest.spyOn(a.provider.repository, 'get');
    const { node: n3 } = await h.launch(a, 'user-label');
    expect((n3.driver_data as { backing_node: string }).backing_node).toBe(y);
    expect(get.mock.calls.map(([id]) => id)).not.toContain(x);
  });

  it('nodescan failure retires the backing node (failed persisted) and the retry uses another one', async () => {
    const clock = new TestClock();
    // Port 1 on loopback is closed: every scan fails within boot-timeout.
    const a = await h.startMeta(
      metastaticConfig(LABEL('        max-parallel-jobs: 2\n        host-key-checking: true\n'), 'boot-timeout: 1\nlaunch-retries: 2\n'),
      clock,
    );
    await h.startStatic(['127.0.0.1', '127.0.0.2'], { port: 1 });
    const { node, result } = await h.launch(a, 'user-label');
    expect(result).toMatchObject({ state: 'failed', attempts: 2, statsKey: 'error.keyscan' });
    const backingNodes = await h.nodesOf('static-backing', 'in-use');
    expect(backingNodes).toHaveLength(2); // a different backing node for the retry
    for (const b of backingNodes) expect((await h.backing(b.id as string))?.data?.failed).toBe(true);
    expect(a.provider.allocator.describe().every((r) => r.failed)).toBe(true);
    // Both retired backing nodes are released once empty, grace-time notwithstanding.
    await h.remove(a, node);
    await a.provider.cleanup();
    expect(await h.nodesOf('static-backing', 'in-use')).toEqual([]);
  });

  it('a failed backing request fails the attempt ("Backing node failed"), counted against launch-retries', async () => {
    const a = await h.startMeta(
      metastaticConfig('      - name: user-label\n        backing-label: nobody-serves-this\n', 'launch-retries: 2\n'),
      new TestClock(),
    );
    await h.startStatic(['127.0.0.1']); // its pool declines the label, so the request fails
    const { result } = await h.launch(a, 'user-label');
    expect(result).toMatchObject({ state: 'failed', attempts: 2 });
    expect(result.error?.message).toContain('Backing node failed');
    expect(a.provider.allocator.describe()).toEqual([]);
    expect(await h.zk.getNodeRequests()).toEqual([]);
  });

  it('a backing request that vanishes (its session ended) is filed again without costing an attempt', async () => {
    const a = await h.startMeta(metastaticConfig(LABEL('')), new TestClock());
    const launching = h.launch(a, 'user-label');
    const first = await waitUntil('the backing request', async () => (await h.zk.getNodeRequests())[0]);
    await h.zk.deleteNodeRequest(first.id as string);
    const second = await waitUntil('a new backing request', async () => (await h.zk.getNodeRequests()).find((r) => r.id !== first.id));
    expect(second).toMatchObject({ node_types: ['backing'], requestor: OWNER });
    await h.startStatic(['127.0.0.1']);
    const { result } = await launching;
    expect(result).toEqual({ state: 'ready', attempts: 1, statsKey: 'ready' });
  });

  it('a backing node of a label no longer configured is released as soon as it is empty (1b1eab77b)', async () => {
    const clock = new TestClock();
    const a = await h.startMeta(metastaticConfig(LABEL('        grace-time: 600\n        min-retention-time: 600\n')), clock);
    await h.startStatic(['127.0.0.1']);
    const { node } = await h.launch(a, 'user-label');
    const x = (node.driver_data as { backing_node: string }).backing_node;
    // A config change replaces the provider; the new one serves another label only.
    const b = await h.startMeta(metastaticConfig('      - name: other-label\n        backing-label: backing\n        grace-time: 600\n'), clock);
    expect(b.provider.allocator.describe().map((r) => r.backingNodeId)).toEqual([x]);
    await b.provider.cleanup();
    expect(await h.backing(x)).toMatchObject({ state: 'in-use' }); // still backs the node
    await h.remove(b, node);
    await b.provider.cleanup();
    expect((await h.backing(x))?.state ?? 'gone').not.toBe('in-use');
  });

  it('quota: one instance per node, unlimited limits; launch settings from the provider and label', async () => {
    const a = await h.startMeta(metastaticConfig(LABEL('        host-key-checking: true\n')), new TestClock(), false);
    const pool = a.provider.config.pools[0];
    expect(a.provider.quotaNeededByLabel('user-label', pool).toResources()).toEqual({ cores: 0, instances: 1, ram: 0 });
    expect((await a.provider.getQuotaLimits()).get('instances')).toBe(Infinity);
    expect(a.provider.launchSettings('user-label', pool)).toMatchObject({ launchRetries: 3, launchTimeout: 3600, bootTimeout: 120, hostKeyChecking: true });
    expect(a.provider.labelReady('user-label', pool)).toBe(true);
    expect(a.provider.labelReady('other', pool)).toBe(false);
  });
});
