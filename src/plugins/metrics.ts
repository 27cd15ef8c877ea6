/** Label values attached to one metric sample, e.g. `{ provider: 'static-a', state: 'ready' }`. */
export type MetricLabels = Record<string, string>;

/** A value that only goes up (launch attempts, failures). */
export interface Counter {
  /** Adds `value` (default 1) to the series selected by `labels`. */
  inc(labels?: MetricLabels, value?: number): void;
}

/** A value that is set to its current reading (nodes by state, quota in use). */
export interface Gauge {
  /** Sets the series selected by `labels` to `value`. */
  set(labels: MetricLabels, value: number): void;
  /** Removes every series, before a full re-count. */
  reset(): void;
}

/** A distribution of observed values, in seconds for durations. */
export interface Histogram {
  /** Records one observation. */
  observe(labels: MetricLabels, value: number): void;
}

/**
 * Metric registry of one kernel. Names follow Prometheus conventions (`nodepool_launch_total`);
 * asking twice for the same name returns the same metric.
 */
export interface Metrics {
  /** Gets or creates a counter. */
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  /** Gets or creates a gauge. */
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  /** Gets or creates a histogram. */
  histogram(name: string, help: string, labelNames?: readonly string[]): Histogram;
  /** The whole registry in Prometheus text exposition format. */
  render(): Promise<string>;
}

/** Injection token for the kernel's {@link Metrics}. */
export const Metrics: unique symbol = Symbol.for('nodepool-ts.Metrics');
