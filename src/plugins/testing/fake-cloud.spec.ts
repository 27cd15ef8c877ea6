import { validate } from '../config-validation';
import { withCommonKeys } from '../provider-section';
import { NotFoundError, QuotaError, type CreateRequest, type StateMachine } from '../state-machine';
import { FakeCloud } from './fake-cloud';
import { FakeDriver, FakeProvider, fakeCloudOptions } from './fake-provider';
import type { ProviderConfig } from '../nodepool-config';

function request(label = 'small', nodeId = '0000000001'): CreateRequest {
  return {
    hostname: `np${nodeId}`, label, pool: 'main', imageExternalId: null, nodeId, requestId: null, az: null,
    metadata: { nodepool_node_id: nodeId, nodepool_pool_name: 'main', nodepool_provider_name: 'fake' },
  };
}

/** Advances until complete (or `max` calls), returning the last result and the call count. */
async function drive(machine: StateMachine, max = 20): Promise<{ result: unknown; calls: number }> {
  let result: unknown;
  let calls = 0;
  while (!machine.complete && calls < max) {
    result = await machine.advance();
    calls++;
  }
  return { result, calls };
}

describe('FakeCloud', () => {
  test('an instance is created on the first advance and is active after bootSteps more', async () => {
    const cloud = new FakeCloud({ bootSteps: 3 });
    const machine = cloud.createMachine(request());
    await machine.advance();
    expect(machine.externalId).toBe('fake-1');
    expect(cloud.instances.get('fake-1')).toMatchObject({ status: 'building', hostname: 'np0000000001' });
    const { result, calls } = await drive(machine);
    expect(calls).toBe(3);
    expect(result).toMatchObject({ externalId: 'fake-1', interfaceIp: 'fake-10.0.0.1', metadata: { nodepool_node_id: '0000000001' } });
    expect(cloud.instances.get('fake-1')?.status).toBe('active');
  });

  test('queued faults apply to launches in order: fail, hang, quota, then normal', async () => {
    const cloud = new FakeCloud().failNext(1, 'boom').hangNext().quotaNext();
    const failing = cloud.createMachine(request());
    await failing.advance();
    await expect(failing.advance()).rejects.toThrow('boom (fake-1)');
    expect(cloud.instances.has('fake-1')).toBe(true);

    const hanging = cloud.createMachine(request());
    expect((await drive(hanging, 10)).calls).toBe(10);
    expect(hanging.complete).toBe(false);

    await expect(cloud.createMachine(request()).advance()).rejects.toBeInstanceOf(QuotaError);

    const ok = cloud.createMachine(request());
    await drive(ok);
    expect(ok.complete).toBe(true);
    expect(cloud.creates).toBe(4);
  });

  test('cloud limits refuse a launch with QuotaError', async () => {
    const cloud = new FakeCloud({ limits: { cores: 4 }, labelResources: { big: { cores: 4, instances: 1 } } });
    await drive(cloud.createMachine(request('big')));
    await expect(cloud.createMachine(request('big')).advance()).rejects.toBeInstanceOf(QuotaError);
    expect(cloud.usage().get('cores')).toBe(4);
    expect(cloud.quotaLimits().get('ram')).toBe(Infinity);
  });

  test('delete removes the instance; an absent one is NotFound; failDeleteNext keeps it', async () => {
    const cloud = new FakeCloud();
    const inst = cloud.addInstance({ label: 'small' });
    cloud.failDeleteNext();
    await expect(cloud.deleteMachine(inst.id).advance()).rejects.toThrow('fake delete failure');
    expect(cloud.instances.has(inst.id)).toBe(true);
    const del = cloud.deleteMachine(inst.id);
    await drive(del);
    expect(del.complete).toBe(true);
    expect(cloud.instances.size).toBe(0);
    await expect(cloud.deleteMachine(inst.id).advance()).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('FakeProvider and FakeDriver', () => {
  const raw = { name: 'fake', driver: 'fake', limits: { instances: 2 }, pools: [{ name: 'main', labels: [{ name: 'big', resources: { cores: 8, instances: 1 } }, { name: 'small' }] }] };

  test('the schema accepts a provider section and the driver lists pool labels', () => {
    const driver = new FakeDriver();
    const result = validate(withCommonKeys(driver.providerSchema), raw);
    expect(result.issues).toEqual([]);
    const value = result.value as Record<string, unknown>;
    expect(value['boot-steps']).toBe(1);
    expect(driver.poolLabels((value.pools as Record<string, unknown>[])[0])).toEqual(['big', 'small']);
  });

  test('the provider reports limits, label resources and its instances', async () => {
    const config = { name: 'fake', driver: 'fake', maxConcurrency: -1, priority: null, pools: [], raw, location: 'test' } as ProviderConfig;
    const provider = new FakeProvider(config, new FakeCloud(fakeCloudOptions(raw)));
    expect((await provider.getQuotaLimits()).get('instances')).toBe(2);
    expect(provider.quotaNeededByLabel('big', {} as never).toResources()).toEqual({ cores: 8, instances: 1 });
    expect(provider.quotaNeededByLabel('small', {} as never).toResources()).toEqual({ instances: 1 });
    provider.cloud.addInstance({ label: 'small', metadata: { nodepool_node_id: '7', nodepool_pool_name: 'main', nodepool_provider_name: 'fake' } });
    expect(await provider.listInstances()).toEqual([
      expect.objectContaining({ externalId: 'fake-1', metadata: { nodepool_node_id: '7', nodepool_pool_name: 'main', nodepool_provider_name: 'fake' } }),
    ]);
  });
});
