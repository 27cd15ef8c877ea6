/**
 * Coalesces the ZooKeeper requests one turn of the event loop writes into one socket write.
 *
 * The library writes each request packet on its own (`socket.write` per packet), and with
 * `setNoDelay` each is a syscall and a TCP segment of its own. A launcher often sends several
 * requests from one turn (replies that arrive together resume several tasks, each of which sends
 * its next request); over loopback on a small VM those per-packet writes were the largest single
 * item of a launcher's CPU profile. Corking the socket at the first write of a turn and uncorking
 * it once the turn's ticks and microtasks ran sends the same bytes in the same order in one
 * `writev`, and the server reads them in one go. Nothing waits longer than the current turn.
 */
import type { Socket } from 'node:net';

/** Patches `socket.write` (this socket only) to cork until the end of the current turn. */
export function coalesceWrites(socket: Socket): void {
  const write = socket.write;
  let corked = false;
  const flush = (): void => {
    corked = false;
    // end() and destroy() uncork on their own; uncorking an uncorked socket would be harmless,
    // but an explicit check keeps this from undoing a cork somebody else set.
    if (socket.writableCorked > 0) socket.uncork();
  };
  socket.write = function coalescedWrite(this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!corked && !socket.destroyed && socket.writable) {
      corked = true;
      socket.cork();
      // A tick queued now runs after every microtask of this turn, so the continuations that
      // replies resumed in this turn all get their requests into the same write.
      process.nextTick(flush);
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Socket['write'];
}
