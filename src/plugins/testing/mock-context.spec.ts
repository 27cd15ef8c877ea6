import { FakeDriver } from './fake-provider';
import { MockLogger, mockProviderConfig, mockProviderContext } from './mock-context';

describe('test kit stand-ins', () => {
  it('mockProviderConfig applies the driver schema and the common keys like the kernel', () => {
    const config = mockProviderConfig(new FakeDriver(), { pools: [{ name: 'main', 'max-servers': 2, labels: [{ name: 'small' }] }] });
    expect(config).toMatchObject({ name: 'test-provider', driver: 'fake', maxConcurrency: -1 });
    expect(config.pools[0]).toMatchObject({ name: 'main', maxServers: 2, labels: ['small'], priority: 100 });
    expect(config.raw['launch-retries']).toBe(3);
    expect(() => mockProviderConfig(new FakeDriver(), { pools: [{ name: 'main', nope: 1 }] })).toThrow('providers[0].pools[0].nope: extra keys not allowed');
  });

  it('mockProviderContext records log lines through child loggers and refuses ZooKeeper use', () => {
    const context = mockProviderContext();
    context.logger.child({ provider: 'p' }).warn('careful', { node: '1' });
    expect(context.logger.lines).toEqual([{ level: 'warn', msg: 'careful', fields: { provider: 'p', node: '1' } }]);
    expect(context.logger).toBeInstanceOf(MockLogger);
    expect(() => context.zk.getNodeIds()).toThrow(/ZooKeeper.getNodeIds is not available; pass \{ zk \}/);
  });
});
