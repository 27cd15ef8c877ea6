/**
 * The advance loop shared by the node launcher and deleter: call `advance()` until
 * the machine is complete, sleeping between calls only while nothing changes, bounded by a
 * timeout measured from the machine's own start time.
 */
import type { Instance, StateMachine } from './state-machine';

/** The state machine did not complete within its time bound (Nodepool's `ServerCreateTimeout`). */
export class StateMachineTimeoutError extends Error {
  override readonly name = 'StateMachineTimeoutError';
}

/** The operation was cancelled through its abort signal (launcher shutdown). */
export class StateMachineCancelledError extends Error {
  override readonly name = 'StateMachineCancelledError';
}

/** Options of {@link runStateMachine}. */
export interface RunStateMachineOptions {
  /** Bound on the whole operation in ms, counted from `machine.startTime`. */
  timeoutMs: number;
  /** Pause between `advance()` calls that made no progress (default 1000 ms). */
  pollMs?: number;
  /** Cancels the loop; it then rejects with {@link StateMachineCancelledError}. */
  signal?: AbortSignal;
  /** Called after an `advance()` that changed the state or the external id. */
  onProgress?: (machine: StateMachine) => Promise<void> | void;
  /** Message prefix for the timeout error (default `state machine`). */
  what?: string;
}

/** Throws {@link StateMachineCancelledError} when `signal` is aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StateMachineCancelledError('cancelled');
}

/** Sleeps `ms`, waking early (and rejecting) when `signal` aborts. */
export function cancellableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new StateMachineCancelledError('cancelled'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new StateMachineCancelledError('cancelled'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Races `promise` against `ms` and the abort signal, so a driver whose `advance()` blocks (which
 * it should not) still cannot hold the launch past its timeout or delay a shutdown.
 */
function bounded<T>(promise: Promise<T>, ms: number, signal: AbortSignal | undefined, timeoutMessage: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      cleanup();
      reject(new StateMachineCancelledError('cancelled'));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new StateMachineTimeoutError(timeoutMessage));
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        cleanup();
        reject(err);
      },
    );
  });
}

/**
 * Drives `machine` to completion and returns what its last `advance()` returned (the
 * {@link Instance} for create machines). Errors thrown by `advance()` propagate unchanged;
 * running past `timeoutMs` rejects with {@link StateMachineTimeoutError}.
 */
export async function runStateMachine(machine: StateMachine, options: RunStateMachineOptions): Promise<Instance | undefined> {
  const pollMs = options.pollMs ?? 1000;
  const what = options.what ?? 'state machine';
  const timeoutMessage = (): string => `${what} timed out after ${options.timeoutMs / 1000} s in state ${machine.state}`;
  const deadline = machine.startTime + options.timeoutMs;
  for (;;) {
    throwIfCancelled(options.signal);
    const remaining = deadline - performance.now();
    if (remaining <= 0) throw new StateMachineTimeoutError(timeoutMessage());
    const state = machine.state;
    const externalId = machine.externalId;
    const result = await bounded(machine.advance(), remaining, options.signal, timeoutMessage());
    const progressed = machine.state !== state || machine.externalId !== externalId || machine.complete;
    if (progressed) await options.onProgress?.(machine);
    if (machine.complete) return result;
    // A machine that moved on is advanced again at once; one that is waiting on the cloud is
    // polled, like Nodepool's one-pass-per-second loop.
    if (!progressed) await cancellableSleep(Math.min(pollMs, Math.max(0, deadline - performance.now())), options.signal);
  }
}
