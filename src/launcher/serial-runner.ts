/**
 * The loop every engine worker shares: run a pass now and then every interval, wake early on
 * demand, never let two passes overlap, and on stop wait for the pass in flight. A wake during a
 * pass asks for one more pass after it, because the event may concern something the pass has
 * already read past.
 */
import type { Logger } from '../plugins/logger';

/** How to build a {@link SerialRunner}. */
export interface SerialRunnerOptions {
  /** What the log lines call it. */
  name: string;
  /** Period of the timer, ms. */
  intervalMs: number;
  /**
   * One pass; a rejection is logged and the next pass runs as usual. `timer` is true when the
   * period elapsed since the previous pass started (a full pass is due), false when only woken.
   */
  pass: (timer: boolean) => Promise<void>;
  logger: Logger;
  /**
   * When given and false, a due pass is skipped (spec §4.1: workers pause while the ZooKeeper
   * session is suspended or lost). Without this every pass would fail on every read and log an
   * error per attempt; the owner wakes the runner again once the session is back.
   */
  mayRun?: () => boolean;
}

/** See the module comment. */
export class SerialRunner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private timerDue = false;
  private stopped = false;
  private held = false;

  constructor(private readonly options: SerialRunnerOptions) {}

  /** Whether {@link stop} was called. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Starts the timer and runs a first pass now. */
  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => {
      this.timerDue = true;
      this.wake();
    }, this.options.intervalMs);
    this.timerDue = true;
    this.wake();
  }

  /** Asks for a pass now; coalesces with the pass in flight. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when no pass is in flight (tests use it to settle). */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  /** Stops waking and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.idle();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      if (this.options.mayRun && !this.options.mayRun()) {
        // Keep `timerDue`: the first pass after the pause is a full one.
        if (!this.held) this.options.logger.info(`${this.options.name} paused: no ZooKeeper session`);
        this.held = true;
        return;
      }
      if (this.held) this.options.logger.info(`${this.options.name} resumed`);
      this.held = false;
      const timer = this.timerDue;
      this.timerDue = false;
      try {
        await this.options.pass(timer);
      } catch (err) {
        this.options.logger.error(`${this.options.name} pass failed`, { err: err instanceof Error ? err.message : String(err) });
      }
    } while (this.again && !this.stopped);
  }
}
