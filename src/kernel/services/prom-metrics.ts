import { Counter as PCounter, Gauge as PGauge, Histogram as PHistogram, Registry } from 'prom-client';
import type { Counter, Gauge, Histogram, MetricLabels, Metrics } from '../../plugins/metrics';

/**
 * Prometheus metrics of one kernel. Each kernel owns its registry (never prom-client's global
 * one), so two kernels in a process do not count into each other's series.
 */
export class PromMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, Counter | Gauge | Histogram>();

  private getOrCreate<T extends Counter | Gauge | Histogram>(name: string, make: () => T): T {
    let metric = this.metrics.get(name);
    if (!metric) {
      metric = make();
      this.metrics.set(name, metric);
    }
    return metric as T;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.getOrCreate(name, () => {
      const c = new PCounter({ name, help, labelNames, registers: [this.registry] });
      return { inc: (labels: MetricLabels = {}, value = 1): void => c.inc(labels, value) };
    });
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.getOrCreate(name, () => {
      const g = new PGauge({ name, help, labelNames, registers: [this.registry] });
      return { set: (labels: MetricLabels, value: number): void => g.set(labels, value), reset: (): void => g.reset() };
    });
  }

  histogram(name: string, help: string, labelNames: readonly string[] = []): Histogram {
    return this.getOrCreate(name, () => {
      const h = new PHistogram({
        name, help, labelNames, registers: [this.registry],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      });
      return { observe: (labels: MetricLabels, value: number): void => h.observe(labels, value) };
    });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
