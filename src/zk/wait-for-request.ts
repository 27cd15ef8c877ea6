import type { ZooKeeperClient, ZkWatcher } from '../plugins/zookeeper';
import { NodeRequest, type RequestState } from './models/node-request';
import { requestPath } from './nodepool-paths';
import { NoNodeError } from './zk-errors';

/**
 * Resolves with a request once its state is one of `states`. Driven by data watches (one stable
 * watcher, which the client de-duplicates per path); a slow re-read every `pollMs` covers a watch
 * lost with the session. Rejects when the request vanishes or `timeoutMs` passes.
 */
export async function waitForNodeRequest(
  client: ZooKeeperClient,
  id: string,
  states: readonly RequestState[] = ['fulfilled', 'failed'],
  timeoutMs = 60000,
  pollMs = 2000,
): Promise<NodeRequest> {
  const path = requestPath(id);
  const deadline = Date.now() + timeoutMs;
  let fired = false;
  let wake: (() => void) | undefined;
  const watcher: ZkWatcher = () => {
    fired = true;
    wake?.();
  };
  for (;;) {
    fired = false;
    let res;
    try {
      res = await client.get(path, watcher);
    } catch (err) {
      if (err instanceof NoNodeError) throw new Error(`request ${id} vanished while waiting for ${states.join('|')}`);
      throw err;
    }
    const req = NodeRequest.parse(id, res.data, res.stat.version, path);
    if (states.includes(req.state)) return req;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for request ${id} to become ${states.join('|')}: ` +
          `still ${req.state} (declined_by: ${JSON.stringify(req.declined_by)})`,
      );
    }
    // `fired` catches a change that landed between the read and this wait.
    if (fired) continue;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(left, pollMs));
      function done(): void {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }
}
