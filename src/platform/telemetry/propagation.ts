import { context, propagation, type Context } from '@opentelemetry/api';

/** The active trace context as a W3C carrier (`traceparent`, `tracestate`), or null outside a trace. */
export function currentTraceCarrier(): Record<string, string> | null {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length ? carrier : null;
}

export function contextFromCarrier(carrier: Record<string, string> | null | undefined): Context {
  return carrier ? propagation.extract(context.active(), carrier) : context.active();
}
