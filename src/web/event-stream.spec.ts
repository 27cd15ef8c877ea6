import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStream } from './event-stream';

describe('EventStream (/events)', () => {
  let server: http.Server;
  let stream: EventStream;
  let url: string;

  beforeEach(async () => {
    stream = new EventStream({ coalesceMs: 20, maxClients: 1 });
    server = http.createServer((req, res) => void stream.attach(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  });

  afterEach(async () => {
    stream.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  /** Reads events off an open response until `count` `change` events arrived. */
  async function changes(body: ReadableStream<Uint8Array>, count: number): Promise<Record<string, number>[]> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const found = (): string[] => text.split('\n\n').filter((m) => m.includes('event: change'));
    while (found().length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    reader.releaseLock();
    return found().map((m) => JSON.parse(m.split('data: ')[1]) as Record<string, number>);
  }

  it('sends the current counters on connect, then one event per burst of changes', async () => {
    stream.notify('pools');
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await changes(res.body!, 1)).toEqual([{ nodes: 0, requests: 0, pools: 1, launchers: 0 }]);
    stream.notify('nodes');
    stream.notify('nodes');
    stream.notify('requests');
    expect(await changes(res.body!, 1)).toEqual([{ nodes: 2, requests: 1, pools: 1, launchers: 0 }]);
    // Only one stream allowed here: the next is refused, not queued.
    expect((await fetch(url)).status).toBe(503);
    await res.body!.cancel();
  });
});
