import type { Provider, ProviderDriver } from '../plugins/driver';
import type { NodepoolConfig, ProviderConfig } from '../plugins/nodepool-config';
import { CaptureLogger } from '../../test/support/capture-logger';
import { ProviderSupervisor } from './provider-supervisor';

function providerConfig(name: string, driver: string, raw: Record<string, unknown> = {}): ProviderConfig {
  return { name, driver, maxConcurrency: -1, priority: null, pools: [], raw, location: 'test' };
}

function config(...providers: ProviderConfig[]): NodepoolConfig {
  return { providers: new Map(providers.map((p) => [p.name, p])), diskimages: new Map() } as unknown as NodepoolConfig;
}

/** A driver whose providers fail `failures` starts (rejecting with `undefined`), then start. */
function flakyDriver(failures: number): ProviderDriver & { starts: number } {
  const driver = {
    name: 'flaky',
    starts: 0,
    providerSchema: {} as ProviderDriver['providerSchema'],
    poolLabels: () => [],
    createProvider: (c: ProviderConfig): Provider => ({
      name: c.name, config: c, launches: true,
      start: async () => {
        driver.starts += 1;
        if (driver.starts <= failures) return Promise.reject(undefined);
      },
      stop: async () => undefined,
    }),
  };
  return driver;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('ProviderSupervisor', () => {
  it('retries a failed start, reports what was thrown (even undefined), and clears it once running; a missing driver is not retried', async () => {
    const driver = flakyDriver(2);
    const supervisor = new ProviderSupervisor({
      driver: (name) => (name === 'flaky' ? driver : undefined),
      context: () => ({}) as never,
      createWorkers: () => [],
      logger: new CaptureLogger(),
      retryMs: 20,
    });
    await supervisor.apply(config(providerConfig('p', 'flaky'), providerConfig('q', 'missing')));
    const p = supervisor.states().find((s) => s.name === 'p')!;
    expect(p).toMatchObject({ state: 'failed', error: 'start() failed: undefined thrown' });
    expect(supervisor.states().find((s) => s.name === 'q')).toMatchObject({ state: 'failed', error: 'no driver "missing" (no loaded plugin provides it)' });
    expect(supervisor.states().find((s) => s.name === 'q')?.retryAt).toBeUndefined();
    for (let i = 0; i < 100 && supervisor.states()[0].state !== 'running'; i++) await sleep(10);
    expect(supervisor.states()[0]).toEqual({ name: 'p', driver: 'flaky', state: 'running', since: expect.any(Number) });
    expect(driver.starts).toBe(3);
    expect(supervisor.providers.has('p')).toBe(true);
    await supervisor.halt();
    await supervisor.stopAll();
    expect(supervisor.states()).toEqual([]);
  });
});
