import net from 'node:net';
import { nodescan, NodescanError } from './nodescan';
import { runStateMachine, StateMachineCancelledError, StateMachineTimeoutError } from './run-state-machine';
import { StateMachine, type Instance } from './state-machine';

/** Moves to a new state on every call and completes after `steps` calls. */
class Stepper extends StateMachine {
  calls = 0;
  constructor(private readonly steps: number) {
    super();
  }

  async advance(): Promise<Instance | undefined> {
    this.calls++;
    this.state = `step-${this.calls}`;
    if (this.calls === 2) this.externalId = 'ext-1';
    if (this.calls < this.steps) return undefined;
    this.complete = true;
    return { externalId: 'ext-1', metadata: {} };
  }
}

/** Never progresses. */
class Waiter extends StateMachine {
  async advance(): Promise<Instance | undefined> {
    return undefined;
  }
}

describe('runStateMachine', () => {
  test('advances again without the poll pause while the machine progresses', async () => {
    const machine = new Stepper(5);
    const seen: string[] = [];
    // A one-minute poll interval: only the no-pause rule lets this finish within the test timeout.
    const result = await runStateMachine(machine, { timeoutMs: 60_000, pollMs: 60_000, onProgress: (m) => void seen.push(`${m.state}:${String(m.externalId)}`) });
    expect(result).toEqual({ externalId: 'ext-1', metadata: {} });
    expect(seen).toEqual(['step-1:null', 'step-2:ext-1', 'step-3:ext-1', 'step-4:ext-1', 'step-5:ext-1']);
  });

  test('a machine that never completes times out', async () => {
    await expect(runStateMachine(new Waiter(), { timeoutMs: 50, pollMs: 5, what: 'create' })).rejects.toThrow(StateMachineTimeoutError);
  });

  test('an advance() that blocks is bounded by the timeout too', async () => {
    const blocked = new (class extends StateMachine {
      advance(): Promise<Instance | undefined> {
        return new Promise(() => undefined);
      }
    })();
    await expect(runStateMachine(blocked, { timeoutMs: 50 })).rejects.toThrow(StateMachineTimeoutError);
  });

  test('aborting the signal cancels the loop', async () => {
    const controller = new AbortController();
    const run = runStateMachine(new Waiter(), { timeoutMs: 60_000, pollMs: 60_000, signal: controller.signal });
    controller.abort();
    await expect(run).rejects.toThrow(StateMachineCancelledError);
  });
});

describe('nodescan', () => {
  test('fake IPs give the fake host key without connecting', async () => {
    expect(await nodescan({ host: 'fake-1.2.3.4', port: 1, connectionType: 'ssh', timeoutMs: 10 })).toEqual(['ssh-rsa FAKEKEY']);
  });

  test('an open port passes the TCP check', async () => {
    const server = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(await nodescan({ host: '127.0.0.1', port, connectionType: 'winrm', timeoutMs: 2000 })).toEqual([]);
    } finally {
      server.close();
    }
  });

  test('a closed port fails after the timeout', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    await expect(nodescan({ host: '127.0.0.1', port, connectionType: 'ssh', timeoutMs: 100, retryDelayMs: 10 })).rejects.toThrow(NodescanError);
  });
});
