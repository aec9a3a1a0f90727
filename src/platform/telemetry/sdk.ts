import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { WinstonInstrumentation } from '@opentelemetry/instrumentation-winston';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { shownQueryText } from './query-text.js';

export function instrumentations() {
  return [
    new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => /^\/(health|metrics)/.test(request.url ?? '') }),
    // No Express instrumentation: it wrapped every layer of every request (its spans, one per
    // router by then, said nothing the request span does not) only to tell the request span its
    // route; observeRequests (src/api/observe-requests.ts) names it instead.
    // Statements outside any span (the relay's claims, boot, the order cache's LISTEN) and those an
    // unsampled request runs outside its trace (unlessRecorded) make no span.
    // A one-round-trip query shows its statements as written, `?` for values (query-text.ts).
    new PgInstrumentation({
      enhancedDatabaseReporting: false,
      requireParentSpan: true,
      requestHook: (span, { query }) => {
        const shown = shownQueryText(query.text);
        if (shown !== undefined) span.setAttribute('db.query.text', shown);
      },
    }),
    new IORedisInstrumentation({ requireParentSpan: true }),
    // Our log format already adds trace_id/span_id; this keeps winston's own records correlated too.
    new WinstonInstrumentation({ disableLogSending: true }),
  ];
}

/**
 * How often the batch span processor exports, unless OTEL_BSP_SCHEDULE_DELAY says otherwise: every
 * second, not the SDK's 5 s. An export serializes its whole batch on the event loop, so a batch a
 * fifth the size stalls the process a fifth as long; with four processes each stalling every 5 s,
 * those stalls were what the slowest 1% of orders met (docs/performance.md, "Span exports stalled
 * the slowest orders").
 */
export const SPAN_EXPORT_DELAY_MS = 1000;

/**
 * Starts the OpenTelemetry SDK. The exporter, sampler and resource come from the standard
 * OTEL_* variables (read by the SDK itself, the one exception to "only config.ts reads the
 * environment"); with OTEL_TRACES_EXPORTER unset nothing is exported.
 */
export function startTelemetry(options: { spanProcessors?: SpanProcessor[] } = {}): NodeSDK {
  process.env.OTEL_TRACES_EXPORTER ??= 'none';
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  process.env.OTEL_SERVICE_NAME ??= 'cqrs-service-template';
  process.env.OTEL_BSP_SCHEDULE_DELAY ??= String(SPAN_EXPORT_DELAY_MS);
  const sdk = new NodeSDK({
    instrumentations: instrumentations(),
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
  });
  sdk.start();
  const shutdown = () => void sdk.shutdown().catch(() => undefined);
  process.once('beforeExit', shutdown);
  return sdk;
}
