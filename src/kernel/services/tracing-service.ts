import { context, type Tracer as OtelTracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor, ConsoleSpanExporter, InMemorySpanExporter, SimpleSpanProcessor, TracerProvider,
  type ReadableSpan, type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { LauncherSettings } from '../../plugins/launcher-settings';

/** How long shutdown may wait for an exporter (an absent collector would hold it ~9 s). */
const SHUTDOWN_LIMIT_MS = 2000;

/**
 * The tracing of one kernel. Each kernel has its own TracerProvider, span processor and exporter,
 * so two kernels in one process keep their spans apart. The process's main kernel
 * (`processGlobal`) also starts the OpenTelemetry NodeSDK with the same processor, which installs
 * the global context manager and W3C propagation for everything else in the process.
 */
export class TracingService {
  readonly tracer: OtelTracer;
  /** Set when the exporter is `memory` (tests read finished spans from it). */
  readonly memoryExporter: InMemorySpanExporter | null = null;
  private readonly provider: TracerProvider;
  private readonly sdk: NodeSDK | null = null;
  /** Spans the memory exporter held at shutdown (its own shutdown empties it). */
  private retained: ReadableSpan[] = [];

  constructor(settings: LauncherSettings['tracing'], processGlobal: boolean, attributes: Record<string, string> = {}) {
    const processors: SpanProcessor[] = [];
    switch (settings.exporter) {
      case 'console':
        processors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
        break;
      case 'otlp':
        processors.push(new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({ url: settings.endpoint || undefined }),
          scheduledDelayMillis: 500,
        }));
        break;
      case 'memory':
        this.memoryExporter = new InMemorySpanExporter();
        processors.push(new SimpleSpanProcessor({ exporter: this.memoryExporter }));
        break;
      case 'none':
        break;
    }
    const resource = resourceFromAttributes({ 'service.name': settings.serviceName, ...attributes });
    this.provider = new TracerProvider({ resource, spanProcessors: processors });
    if (processGlobal) {
      this.sdk = new NodeSDK({
        resource,
        spanProcessors: processors,
        metricReaders: [],
        logRecordProcessors: [],
        instrumentations: [],
        autoDetectResources: false,
      });
      this.sdk.start();
    } else {
      // Spans nest through the active context; install the async-hooks context manager once per
      // process (a second call is a no-op and returns false).
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    }
    this.tracer = this.provider.getTracer('nodepool-ts');
  }

  /** Exports what is pending (tests call this before reading the memory exporter). */
  async flush(): Promise<void> {
    await this.provider.forceFlush();
  }

  /** Finished spans of the `memory` exporter, still readable after shutdown. */
  finishedSpans(): ReadableSpan[] {
    return [...this.retained, ...(this.memoryExporter?.getFinishedSpans() ?? [])];
  }

  /** Flushes and stops exporting, bounded so a missing collector cannot hold up the stop. */
  async shutdown(): Promise<void> {
    await this.provider.forceFlush().catch(() => undefined);
    this.retained.push(...(this.memoryExporter?.getFinishedSpans() ?? []));
    const work = Promise.allSettled([this.provider.shutdown(), this.sdk?.shutdown()]);
    await Promise.race([work, new Promise((r) => setTimeout(r, SHUTDOWN_LIMIT_MS).unref())]);
  }
}
