/**
 * Drives test/support/kazoo-peer.py (a real kazoo client, Debian python3-kazoo) from tests.
 * Uses /usr/bin/python3 on purpose: the pyenv `python3` on PATH has no kazoo.
 */
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

/** The interpreter that has python3-kazoo. */
export const KAZOO_PYTHON = process.env.NODEPOOL_TS_KAZOO_PYTHON ?? '/usr/bin/python3';

interface Reply {
  tag: string;
  ok: boolean;
  result: unknown;
  error: string | null;
}

/** One running kazoo peer process. */
export class KazooPeer {
  private nextTag = 0;
  private readonly waiting = new Map<string, (reply: Reply) => void>();
  private stderr = '';
  /** kazoo version reported by the peer. */
  version = '';

  private constructor(private readonly proc: ChildProcess) {}

  /** Starts a peer connected to `hosts`; rejects with a clear message if kazoo is missing. */
  static async start(hosts: string): Promise<KazooPeer> {
    const script = path.join(__dirname, 'kazoo-peer.py');
    const proc = spawn(KAZOO_PYTHON, [script, hosts], { stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = new KazooPeer(proc);
    proc.stderr?.on('data', (d: Buffer) => (peer.stderr = (peer.stderr + d.toString()).slice(-4000)));
    const ready = new Promise<Reply>((resolve, reject) => {
      peer.waiting.set('ready', resolve);
      proc.once('error', (err) => reject(new Error(`cannot run ${KAZOO_PYTHON}: ${err.message} (install python3-kazoo)`)));
      proc.once('exit', (code) => reject(new Error(`kazoo peer exited with ${code}: ${peer.stderr}`)));
    });
    readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
      let reply: Reply;
      try {
        reply = JSON.parse(line) as Reply;
      } catch {
        return;
      }
      const resolve = peer.waiting.get(reply.tag);
      peer.waiting.delete(reply.tag);
      resolve?.(reply);
    });
    const first = await ready;
    if (!first.ok) throw new Error(`kazoo peer failed to start: ${first.error}`);
    peer.version = String(first.result);
    return peer;
  }

  /** Sends one command and waits for its reply; rejects when the peer reports an error. */
  async send<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const tag = String(++this.nextTag);
    const reply = new Promise<Reply>((resolve) => this.waiting.set(tag, resolve));
    this.proc.stdin!.write(`${JSON.stringify({ tag, cmd, ...args })}\n`);
    const r = await reply;
    if (!r.ok) throw new Error(`kazoo ${cmd} failed: ${r.error}`);
    return r.result as T;
  }

  /** kazoo `Lock(path, identifier).acquire(blocking, timeout, ephemeral)` under handle `lock`. */
  acquire(lock: string, lockPath: string, options: { identifier?: string; blocking?: boolean; timeout?: number; ephemeral?: boolean } = {}): Promise<boolean> {
    return this.send<boolean>('acquire', {
      lock, path: lockPath, identifier: options.identifier ?? null, blocking: options.blocking ?? true,
      timeout: options.timeout ?? null, ephemeral: options.ephemeral ?? true,
    });
  }

  /** Releases the lock held under handle `lock`. */
  release(lock: string): Promise<boolean> {
    return this.send<boolean>('release', { lock });
  }

  /** kazoo `Lock(path).contenders()`. */
  contenders(lockPath: string): Promise<string[]> {
    return this.send<string[]>('contenders', { path: lockPath });
  }

  /** kazoo `create(path, data, sequence=…, makepath=True)` for each item, in order; the created paths. */
  create(items: ReadonlyArray<{ path: string; data?: Buffer; sequence?: boolean }>): Promise<string[]> {
    return this.send<string[]>('create', { items: items.map((i) => ({ path: i.path, data: (i.data ?? Buffer.alloc(0)).toString('base64'), sequence: i.sequence ?? false })) });
  }

  /** Sorted children of a path. */
  children(p: string): Promise<string[]> {
    return this.send<string[]>('children', { path: p });
  }

  /** Stops the peer (its session ends, ephemeral contenders vanish). */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin!.write(`${JSON.stringify({ tag: 'x', cmd: 'exit' })}\n`);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
