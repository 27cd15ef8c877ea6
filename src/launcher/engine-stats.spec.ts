import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { EngineStats } from './engine-stats';
import { PromMetrics } from '../kernel/services/prom-metrics';
import { StatsdClient } from '../kernel/services/statsd-client';

describe('EngineStats statsd names', () => {
  let socket: dgram.Socket;
  const lines: string[] = [];

  beforeAll(async () => {
    socket = dgram.createSocket('udp4');
    socket.on('message', (m) => lines.push(m.toString()));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  });
  afterAll(() => socket.close());

  it('sends launch timers and counters with AZ and normalised requestor, and leak counters', async () => {
    const statsd = new StatsdClient({ host: '127.0.0.1', port: (socket.address() as AddressInfo).port, prefix: 'np' });
    const stats = new EngineStats(new PromMetrics(), statsd);
    stats.launchEnded({ provider: 'p1', pool: 'main', label: 'small', az: 'az1', requestor: 'zuul:web.1', result: 'error.keyscan', attempts: 3, durationMs: 1234.4 });
    stats.leakDeleted('p1', 'instance');
    stats.leakDeleted('p1', 'floatingip');
    const want = [
      'np.nodepool.launch.provider.p1.az1.error.keyscan:1234|ms', 'np.nodepool.launch.provider.p1.az1.error.keyscan:1|c',
      'np.nodepool.launch.provider.p1.error.keyscan:1|c', 'np.nodepool.launch.error.keyscan:1234|ms',
      'np.nodepool.launch.requestor.zuul_web_1.error.keyscan:1|c',
      'np.nodepool.provider.p1.leaked.instances:1|c', 'np.nodepool.provider.p1.leaked.floatingips:1|c',
    ];
    const end = Date.now() + 5000;
    while (!want.every((w) => lines.includes(w)) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(lines).toEqual(expect.arrayContaining(want));
    statsd.close();
  });
});
