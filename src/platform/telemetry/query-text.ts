/**
 * What a query's span shows as `db.query.text` when the text sent is not fit for a trace: the
 * one-round-trip helpers (src/platform/db/one-round-trip.ts) send `EXECUTE` of prepared statements
 * with the values inlined, opaque to a reader and carrying customers' data; their spans show the
 * statements as written, with `?` for every value, instead. No imports: the telemetry SDK loads
 * this before any instrumented package.
 */
let pending: { sent: string; shown: string } | undefined;

/** Runs `send(sent)`, whose pg span (if any) shows `shown`; the instrumentation reads it synchronously, inside the call. */
export function sendShowing<T>(sent: string, shown: string, send: (text: string) => T): T {
  pending = { sent, shown };
  try {
    return send(sent);
  } finally {
    pending = undefined;
  }
}

/** For the pg instrumentation's requestHook: the text to show for `sent`, when one was given. */
export function shownQueryText(sent: string | undefined): string | undefined {
  return pending !== undefined && pending.sent === sent ? pending.shown : undefined;
}
