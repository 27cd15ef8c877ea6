import type { Tracer as OtelTracer } from '@opentelemetry/api';

/**
 * OpenTelemetry tracer of the kernel that owns the plugin. Spans started with it go to the
 * exporter chosen in the launcher settings (none, console, OTLP over HTTP, in-memory in tests).
 */
export interface Tracer extends OtelTracer {}

/** Injection token for the kernel's {@link Tracer}. */
export const Tracer: unique symbol = Symbol.for('nodepool-ts.Tracer');
