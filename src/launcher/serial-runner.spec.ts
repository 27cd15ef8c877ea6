import { SerialRunner } from './serial-runner';
import { CaptureLogger } from '../../test/support/capture-logger';

describe('SerialRunner', () => {
  it('never overlaps passes, runs once more for a wake during a pass, and stop waits for the pass', async () => {
    let active = 0;
    let maxActive = 0;
    let passes = 0;
    let release: () => void = () => undefined;
    const runner = new SerialRunner({
      name: 't', intervalMs: 3_600_000, logger: new CaptureLogger(),
      pass: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        passes++;
        if (passes === 1) await new Promise<void>((r) => (release = r));
        active--;
      },
    });
    runner.start();
    runner.wake();
    runner.wake();
    expect(passes).toBe(1);
    release();
    await runner.idle();
    expect(passes).toBe(2); // the wakes during pass 1 coalesced into one more
    expect(maxActive).toBe(1);
    await runner.stop();
    runner.wake();
    await runner.idle();
    expect(passes).toBe(2);
  });

  it('logs a failing pass and keeps running', async () => {
    const logger = new CaptureLogger();
    let n = 0;
    const runner = new SerialRunner({ name: 'boom', intervalMs: 3_600_000, logger, pass: async () => { n++; if (n === 1) throw new Error('bad'); } });
    runner.start();
    await runner.idle();
    runner.wake();
    await runner.idle();
    await runner.stop();
    expect(n).toBe(2);
    expect(logger.lines.map((l) => l.msg)).toContain('boom pass failed');
  });

  it('skips passes while mayRun says no (no ZooKeeper session), logging once, and runs a full pass when woken after', async () => {
    const logger = new CaptureLogger();
    let connected = false;
    const timers: boolean[] = [];
    const runner = new SerialRunner({
      name: 'gated', intervalMs: 3_600_000, logger, mayRun: () => connected,
      pass: async (timer) => void timers.push(timer),
    });
    runner.start();
    await runner.idle();
    runner.wake();
    await runner.idle();
    expect(timers).toEqual([]);
    connected = true;
    runner.wake();
    await runner.idle();
    await runner.stop();
    expect(timers).toEqual([true]); // the timer pass that was due is not lost
    expect(logger.lines.map((l) => l.msg).filter((m) => m.startsWith('gated'))).toEqual(['gated paused: no ZooKeeper session', 'gated resumed']);
  });
});
