import { TracingService } from './tracing-service';

// OTLP/HTTP export is tested end to end against a launcher process in
// test/integration/launcher-kernel.test.ts (inside jest's module sandbox the exporter's HTTP
// transport does not deliver).
describe('TracingService', () => {
  it('nests spans through the active context and keeps memory spans readable after shutdown', async () => {
    const tracing = new TracingService({ exporter: 'memory', endpoint: '', serviceName: 't' }, false);
    await tracing.tracer.startActiveSpan('parent', async (parent) => {
      await new Promise((r) => setTimeout(r, 1));
      tracing.tracer.startSpan('child').end();
      parent.end();
    });
    await tracing.shutdown();
    const spans = tracing.finishedSpans();
    const parent = spans.find((s) => s.name === 'parent')!;
    const child = spans.find((s) => s.name === 'child')!;
    expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
  });

  it('does not hold up shutdown when no collector listens', async () => {
    const tracing = new TracingService({ exporter: 'otlp', endpoint: 'http://127.0.0.1:9/v1/traces', serviceName: 't' }, false);
    tracing.tracer.startSpan('lost').end();
    // Resolves (the test's own timeout would catch a hang) even though the export fails.
    await expect(tracing.shutdown()).resolves.toBeUndefined();
  });
});
