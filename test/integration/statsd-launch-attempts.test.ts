/**
 * statsd launch counters count attempts, as Nodepool's (each attempt records its outcome,
 * SM:345-355): a launch that fails once and then succeeds sends one `error.*` and one `ready`;
 * one that fails every attempt sends one `error.*` per attempt.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { FakeProvider } from '../../src/plugins/testing/fake-provider';
import { EngineHarness, sleep, waitUntil } from '../support/engine-harness';

const h = new EngineHarness();
let statsd: dgram.Socket;
const received: string[] = [];

beforeAll(async () => {
  await h.open();
  statsd = dgram.createSocket('udp4');
  statsd.on('message', (msg) => received.push(...msg.toString().split('\n')));
  await new Promise<void>((r) => statsd.bind(0, '127.0.0.1', r));
});
afterAll(async () => {
  statsd.close();
  await h.close();
});

test('one statsd launch count per attempt', async () => {
  const config = 'labels:\n  - name: small\nproviders:\n  - name: fake-a\n    driver: fake\n    launch-retries: 3\n    pools:\n      - name: main\n        labels:\n          - name: small\n';
  const launcher = await h.startLauncher('stats', config, {}, 'stats', { statsd: { host: '127.0.0.1', port: (statsd.address() as AddressInfo).port, prefix: '' } });
  const cloud = (launcher.engine.runtimes.get('fake-a')!.provider as FakeProvider).cloud;
  const count = (re: RegExp): number => received.filter((l) => re.test(l)).length;

  cloud.failNext(1, 'fake boot failure');
  const first = await h.zuul.runJob({ labels: ['small'], timeoutMs: 15000 });
  expect(first.nodeIds).toHaveLength(1);
  await waitUntil('statsd lines of the first launch', async () => count(/^nodepool\.launch\.ready:1\|c$/) === 1 && count(/^nodepool\.launch\.error\.unknown:1\|c$/) === 1);

  cloud.failNext(3, 'fake boot failure');
  const sub = await h.zuul.submit({ labels: ['small'] });
  expect((await h.zuul.waitFor(sub.id, ['fulfilled', 'failed'], 15000)).state).toBe('failed');
  await waitUntil('statsd lines of the failed launch', async () => count(/^nodepool\.launch\.error\.unknown:1\|c$/) === 4);
  await sleep(300);
  expect(count(/^nodepool\.launch\.error\.unknown:1\|c$/)).toBe(4);
  expect(count(/^nodepool\.launch\.provider\.fake-a\.error\.unknown:1\|c$/)).toBe(4);
  expect(count(/^nodepool\.launch\.ready:1\|c$/)).toBe(1);
});
