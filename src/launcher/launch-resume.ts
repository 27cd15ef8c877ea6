/**
 * Crash-resume of launches: a `building` node whose launcher died (nobody holds its lock) and
 * that carries our `nodepool_ts_launch` record in a state its provider can resume is launched on
 * from there instead of being deleted, so its instance is kept (same external id, no second
 * instance). The node stays allocated to its request meanwhile; the lost-request handover leaves
 * that request `pending` until the node is `ready` (or gone), then resets it and the re-run request
 * reuses the ready node. Nodes without the record (Python Nodepool's) are deleted as before.
 */
import type { Provider } from '../plugins/driver';
import { FALLBACK_LAUNCH_SETTINGS } from '../plugins/launch-settings-defaults';
import type { Logger } from '../plugins/logger';
import { NodeLauncher } from '../plugins/node-launcher';
import { StateMachineCancelledError } from '../plugins/run-state-machine';
import type { StateMachine } from '../plugins/state-machine';
import type { Tracer } from '../plugins/tracer';
import type { ZooKeeper } from '../plugins/zookeeper';
import type { Node } from '../zk/models/node';

/**
 * Whether `node` is a launch one of `providers` may resume (and so must not be released or
 * deleted): `building`, with our launch record, its provider ours and able to resume.
 */
export function isResumableLaunch(node: Node, providers: ReadonlyMap<string, Provider>): boolean {
  if (node.state !== 'building' || !node.nodepool_ts_launch || node.provider === null) return false;
  return providers.get(node.provider)?.resumeCreateStateMachine !== undefined;
}

/** How long a starting launcher counts its configured providers as about to resume, ms. */
const START_GRACE_MS = 30_000;

/**
 * The lost-request reset's test for "this node's launch is being, or about to be, resumed here"
 * (its request must then wait): {@link isResumableLaunch}, or, during the first 30 s after the
 * call, a launch of a provider that is configured (`configured()`) but not running yet, since the
 * reset runs before the providers have started.
 */
export function resumeJudge(providers: ReadonlyMap<string, Provider>, configured: () => { has(name: string): boolean }): (node: Node) => boolean {
  const since = Date.now();
  return (node) => {
    if (isResumableLaunch(node, providers)) return true;
    return node.state === 'building' && node.nodepool_ts_launch !== null && node.provider !== null
      && !providers.has(node.provider) && configured().has(node.provider) && Date.now() - since < START_GRACE_MS;
  };
}

/** What {@link resumeLaunch} needs besides the node. */
export interface ResumeLaunchOptions {
  zk: ZooKeeper;
  provider: Provider;
  logger: Logger;
  tracer?: Tracer;
  /** Aborted on the worker's stop: the node stays `building` with its record for the next launcher. */
  signal?: AbortSignal;
  /** NodeLauncher poll interval, ms. */
  pollInterval?: number;
}

/**
 * Resumes the launch of `node`, which the caller has locked and re-read. Returns undefined when the
 * provider cannot resume it (the caller deletes the node as before); else the running launch,
 * which unlocks the node when it ends: `ready` (still allocated to its request), or `failed` for
 * the deleted-node worker to delete. Never rejects.
 */
export function resumeLaunch(node: Node, options: ResumeLaunchOptions): Promise<void> | undefined {
  const { zk, provider, logger } = options;
  const saved = node.nodepool_ts_launch;
  const label = node.type[0];
  const pool = provider.config.pools.find((p) => p.name === node.pool);
  if (!saved || !label || !pool || !provider.resumeCreateStateMachine) return undefined;
  const log = logger.child({ node: node.id, provider: provider.name });
  let machine: StateMachine | undefined;
  try {
    machine = provider.resumeCreateStateMachine(node, saved, log);
  } catch (err) {
    log.warn('cannot resume launch; deleting the node', { err: (err as Error).message });
    return undefined;
  }
  if (!machine) return undefined;
  log.info('resuming launch of a launcher that is gone', { external_id: saved.external_id, state: saved.machine_state, attempt: saved.attempt });
  const settings = provider.launchSettings?.(label, pool) ?? FALLBACK_LAUNCH_SETTINGS;
  const launcher = new NodeLauncher({
    zk, provider, node, label, pool, settings, logger: log, tracer: options.tracer, az: node.az,
    pollInterval: options.pollInterval, signal: options.signal, resume: machine,
  });
  return launcher.run().then(
    (result) => {
      if (result.state === 'ready') log.info('resumed launch is ready', { external_id: node.external_id });
      else log.warn('resumed launch failed; the node is deleted', { err: result.error?.message });
    },
    (err: unknown) => {
      if (!(err instanceof StateMachineCancelledError)) log.error('resumed launch failed', { err: (err as Error).message });
    },
  ).finally(() => zk.unlockNode(node).catch(() => undefined));
}
