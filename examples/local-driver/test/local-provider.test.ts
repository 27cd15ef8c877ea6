// Unit tests of the provider with the test kit's stand-ins: no launcher, no ZooKeeper.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runStateMachine, type CreateRequest } from '@nodepool-ts/sdk';
import { mockProviderConfig, mockProviderContext } from '@nodepool-ts/sdk/testing';
import { LocalDriver } from '../src/local-driver';

describe('local provider', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-cloud-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const request = (label: string): CreateRequest => ({
    hostname: 'np0000000001', label, pool: 'main', imageExternalId: null, nodeId: '0000000001', requestId: null, az: null,
    metadata: { nodepool_node_id: '0000000001', nodepool_pool_name: 'main', nodepool_provider_name: 'test-provider' },
  });

  it('creates a tagged instance on 127.0.0.1 and deletes it', async () => {
    const driver = new LocalDriver();
    const config = mockProviderConfig(driver, { 'state-dir': dir, pools: [{ name: 'main', labels: [{ name: 'small' }] }] });
    const context = mockProviderContext();
    const provider = driver.createProvider(config, context);
    await provider.start();
    expect(context.logger.messages('info')).toContain('local provider started');

    const instance = await runStateMachine(provider.getCreateStateMachine!(request('small'), context.logger), { timeoutMs: 5000, pollMs: 1 });
    expect(instance).toMatchObject({ interfaceIp: '127.0.0.1', metadata: { nodepool_node_id: '0000000001' } });
    expect((await provider.listInstances!() as Array<{ externalId: unknown }>).map((i) => i.externalId)).toEqual([instance!.externalId]);

    await runStateMachine(provider.getDeleteStateMachine!(instance!.externalId, context.logger), { timeoutMs: 5000, pollMs: 1 });
    expect(await provider.listInstances!()).toEqual([]);
  });

  it('its schema rejects a provider section without state-dir, naming the key', () => {
    expect(() => mockProviderConfig(new LocalDriver(), { pools: [] })).toThrow(/state-dir/);
  });
});
