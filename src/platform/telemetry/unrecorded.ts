import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';

/**
 * Runs `work` outside the current trace when the current span is not recorded (the sampler left
 * the request out): the instrumentations that need a parent span (ioredis) then skip their span
 * work, which would only make spans that are never exported. Sampled requests keep every span.
 */
export function unlessRecorded<T>(work: () => T): T {
  return trace.getActiveSpan()?.isRecording() ? work() : context.with(ROOT_CONTEXT, work);
}
