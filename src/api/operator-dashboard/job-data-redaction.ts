/**
 * What the dashboard shows of a job's data. Jobs carry domain events of every tenant, and
 * neither operators ("no business data") nor a tenant's admin may read other tenants' orders
 * there; so the board shows the event envelope (enough to find the event, its aggregate and its
 * command) and hides the payload. Retries and redrives still use the full, unredacted data:
 * this only changes what is displayed.
 */
const ENVELOPE_FIELDS = new Set([
  'id',
  'position',
  'type',
  'schemaVersion',
  'tenantId',
  'aggregateType',
  'aggregateId',
  'aggregateVersion',
  'commandId',
  'occurredAt',
]);
/** A dead letter wraps the original job: its bookkeeping is shown, its `data` is redacted in turn. */
const DEAD_LETTER_FIELDS = new Set(['queue', 'jobId', 'name', 'failedReason', 'attemptsMade', 'deadLetteredAt']);

export const REDACTED = '[redacted]';

export function redactJobData(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data === undefined ? data : REDACTED;
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => {
      if (key === 'data') return [key, redactJobData(value)];
      // The W3C trace context is how an operator finds the job's trace.
      if (key === 'traceContext') return [key, value === null || isStringRecord(value) ? value : REDACTED];
      const shown = (ENVELOPE_FIELDS.has(key) || DEAD_LETTER_FIELDS.has(key)) && isScalar(value);
      return [key, shown ? value : REDACTED];
    }),
  );
}

function isScalar(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function isStringRecord(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((item) => typeof item === 'string')
  );
}
