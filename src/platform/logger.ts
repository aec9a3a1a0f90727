import { AsyncLocalStorage } from 'node:async_hooks';
import { Writable } from 'node:stream';
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

const unflushed = new Set<BatchedStdout>();
process.once('exit', () => unflushed.forEach((stream) => stream.flush()));

/**
 * Console output written once per event-loop turn instead of once per line: writes to stdout
 * are synchronous, and one per access-log or job line cost the API and the workers about 8% of
 * their CPU under load. Whatever is pending is written on exit; a SIGKILL loses at most one
 * turn's lines.
 */
class BatchedStdout extends Writable {
  private pending: string[] = [];

  constructor() {
    super({ decodeStrings: false });
  }

  override _write(line: string | Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (!this.pending.length) {
      unflushed.add(this);
      setImmediate(() => this.flush());
    }
    this.pending.push(String(line));
    callback();
  }

  flush(): void {
    unflushed.delete(this);
    if (!this.pending.length) return;
    const text = this.pending.join('');
    this.pending = [];
    process.stdout.write(text);
  }
}

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
    transports: [new winston.transports.Stream({ stream: new BatchedStdout() })],
  });
}
