/**
 * Malformed HTTP answers to the OpenStack plugin (issue 8 part 5), injected by the fault proxy in
 * front of the simulator: non-JSON bodies, wrong shapes, truncated bodies, 200 with an error
 * payload. Each launch either succeeds after retries or fails with an error that names the call
 * (method and URL path); no raw TypeError reaches the logs; nothing is leaked in the cloud.
 */
import { LeakDetector } from '../../src/launcher/leak-detector';
import { OpenstackLaunchHarness } from '../support/openstack-simulator/launch-harness';
import type { Fault } from '../support/openstack-simulator/fault-proxy';

jest.setTimeout(60000);

const h = new OpenstackLaunchHarness();
beforeAll(async () => h.open());
afterAll(async () => h.close());
beforeEach(async () => h.reset());
afterEach(async () => h.teardown());

const HTML = '<html><body>502 Bad Gateway</body></html>';
const SERVERS = /GET .*\/servers\/detail/;

interface Case {
  name: string;
  faults: Array<Omit<Fault, 'kind'>>;
  /** A path fragment the failure must name, if the launch fails. */
  names: RegExp;
}

const CASES: Case[] = [
  { name: 'HTML instead of JSON while polling the server list', faults: [{ count: 2, match: SERVERS, body: HTML, contentType: 'text/html' }], names: /servers\/detail/ },
  { name: 'a server list that is not a list', faults: [{ count: 2, match: SERVERS, body: '{"servers": "nope"}' }], names: /servers\/detail/ },
  { name: 'server entries of the wrong shape', faults: [{ count: 2, match: SERVERS, body: '{"servers": [null, 7, {"id": 5, "status": ["ACTIVE"], "addresses": "x", "metadata": null}]}' }], names: /servers\/detail/ },
  { name: 'a truncated server list', faults: [{ count: 2, match: SERVERS, body: '{"servers": [{"id": "abc", "status": "ACTIVE"}]}', truncateAt: 12 }], names: /servers\/detail/ },
  { name: '200 with an error payload for the server create', faults: [{ count: 1, match: /POST .*\/servers$/, body: '{"badRequest": {"message": "Invalid flavor", "code": 400}}' }], names: /POST .*\/servers/ },
  { name: 'a server create answer whose server is null', faults: [{ count: 1, match: /POST .*\/servers$/, body: '{"server": null}', status: 202 }], names: /POST .*\/servers/ },
  { name: 'a floating IP create answered with a wrong shape', faults: [{ count: 1, match: /POST .*\/floatingips$/, body: '{"floatingip": "x"}', status: 201 }], names: /floatingips/ },
  { name: 'a port list that is an object', faults: [{ count: 2, match: /GET .*\/ports/, body: '{"ports": {"id": "p"}}' }], names: /ports/ },
  { name: 'a network list with truncated JSON', faults: [{ count: 3, match: /GET .*\/networks/, body: '{"networks": [{"id": ', status: 200 }], names: /networks/ },
  { name: 'an empty 200 body for the server list', faults: [{ count: 2, match: SERVERS, body: '' }], names: /servers\/detail/ },
];

describe('OpenStack launch with malformed answers', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s: fails or retries cleanly, names the call, leaks nothing', async (_name, c) => {
    const provider = await h.startProvider();
    for (const f of c.faults) h.proxy.inject({ kind: 'reply', ...f });
    const node = await h.buildingNode(provider);
    const result = await h.launch(provider, node);
    expect(h.proxy.applied.reply).toBeGreaterThan(0);
    if (result.state !== 'ready') {
      expect(result.error?.message).toMatch(c.names);
    }
    // Each failed attempt is logged with the full URL (origin and path) of the call that broke.
    for (const line of h.logger.lines.filter((l) => l.msg === 'launch attempt failed')) {
      expect(String(line.fields.err)).toMatch(c.names);
      expect(String(line.fields.err)).toContain('http://127.0.0.1:');
    }
    const text = JSON.stringify(h.logger.lines) + (result.error?.stack ?? '');
    // A raw JavaScript error means an answer was used without checking its shape.
    expect(text).not.toMatch(/TypeError|Cannot read properties|is not a function|is not iterable|undefined is not/);
    // Whatever happened, the node is deleted cleanly and nothing is left in the cloud.
    h.proxy.clear();
    await h.remove(provider, node);
    // A failed attempt whose own cleanup met a bad answer leaves its server to leak detection
    // (as in Nodepool): two passes of the cleanup worker's detector must remove it.
    const leaks = new LeakDetector(provider, h.zk, h.logger, 10000);
    await leaks.pass();
    await leaks.pass();
    await h.expectNoLeaks();
  });
});
