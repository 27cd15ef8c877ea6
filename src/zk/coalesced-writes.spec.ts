import net from 'node:net';
import { coalesceWrites } from './coalesced-writes';

/** A loopback server that records each chunk it reads, and a client socket connected to it. */
async function pair(): Promise<{ client: net.Socket; chunks: string[]; close: () => Promise<void> }> {
  const chunks: string[] = [];
  const server = net.createServer((conn) => conn.on('data', (d: Buffer) => chunks.push(d.toString())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve) => client.once('connect', resolve));
  client.setNoDelay();
  return {
    client,
    chunks,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
}

describe('coalesceWrites', () => {
  it('sends the writes of one turn, microtasks included, in one segment, in order', async () => {
    const { client, chunks, close } = await pair();
    try {
      // What the stream hands to the socket: one `_writev` with every chunk is one syscall.
      const calls: string[] = [];
      const raw = client as unknown as { _write: (...a: unknown[]) => void; _writev: (chunks: Array<{ chunk: Buffer }>, cb: () => void) => void };
      const write = raw._write.bind(client);
      const writev = raw._writev.bind(client);
      raw._write = (...a) => (calls.push('write'), write(...a));
      raw._writev = (c, cb) => (calls.push(`writev ${c.length}`), writev(c, cb));
      coalesceWrites(client);
      client.write('a');
      await Promise.resolve();
      client.write(Buffer.from('b'));
      queueMicrotask(() => client.write('c'));
      await until(() => chunks.join('') === 'abc');
      expect(calls).toEqual(['writev 3']);
      expect(chunks).toEqual(['abc']);
    } finally {
      await close();
    }
  });

  it('leaves the socket uncorked after each turn: a later write goes out on its own', async () => {
    const { client, chunks, close } = await pair();
    try {
      coalesceWrites(client);
      client.write('1');
      await until(() => chunks.length === 1);
      expect(client.writableCorked).toBe(0);
      const done = new Promise<void>((resolve) => client.write('2', () => resolve()));
      await done;
      await until(() => chunks.join('') === '12');
      expect(chunks).toEqual(['1', '2']);
    } finally {
      await close();
    }
  });

  it('an end() in the same turn still sends what was written first', async () => {
    const received: string[] = [];
    const server = net.createServer((conn) => conn.on('data', (d: Buffer) => received.push(d.toString())));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
    await new Promise<void>((resolve) => client.once('connect', resolve));
    coalesceWrites(client);
    client.write('last');
    client.end();
    await new Promise<void>((resolve) => client.once('close', () => resolve()));
    await until(() => received.join('') === 'last');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(received.join('')).toBe('last');
  });
});
