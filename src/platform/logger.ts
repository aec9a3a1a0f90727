import { AsyncLocalStorage } from 'node:async_hooks';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import winston from 'winston';

export type Logger = winston.Logger;

/** Per-request (or per-job) fields that every log line written inside that scope carries. */
const logContext = new AsyncLocalStorage<Record<string, unknown>>();

export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...fields }, fn);
}

/** Adds request id and the active trace and span ids to every record. */
const contextFields = winston.format((info) => {
  Object.assign(info, logContext.getStore());
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span)) {
    info.trace_id = span.traceId;
    info.span_id = span.spanId;
  }
  return info;
});

export function createLogger(options: { level: string; format: 'json' | 'pretty'; service: string }): Logger {
  const rendering =
    options.format === 'json'
      ? winston.format.json()
      : winston.format.combine(
          winston.format.colorize(),
          winston.format.printf(({ level, message, timestamp, service: _service, ...rest }) => {
            const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
            return `${String(timestamp)} ${level} ${String(message)}${extra}`;
          }),
        );
  return winston.createLogger({
    level: options.level,
    defaultMeta: { service: options.service },
    format: winston.format.combine(
      contextFields(),
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      rendering,
    ),
    transports: [new winston.transports.Console()],
  });
}
