import type { DomainEvent } from './index.js';
import { upcast } from './upcasting.js';

/**
 * The event log is the outbox table: the write side appends to it in the command's transaction,
 * the relay publishes from it and rebuilds replay it. Its row shape, its wake-up channel and the
 * envelope read back from a row are the contract all three share, so they live here, once.
 */

/** The PostgreSQL channel a committing command notifies, which wakes the outbox relay. */
export const OUTBOX_CHANNEL = 'outbox_events';

/**
 * A row of outbox_events, the event log, as the write side appends it: the one description of the
 * row besides its migration (test/integration/event-log-shape.test.ts compares the two).
 */
export interface NewEventLogRow {
  id: string;
  tenant_id: string;
  type: string;
  schema_version: number;
  aggregate_type: string;
  aggregate_id: string;
  aggregate_version: number;
  command_id: string | null;
  payload: unknown;
  trace_context: Record<string, string> | null;
  occurred_at: string | Date;
}

/** A row as PostgreSQL returns it to plain SQL: `position` is assigned by the database, `published_at` by the relay. */
export interface EventLogRow extends NewEventLogRow {
  position: string;
  published_at: string | Date | null;
}

/** The columns the write side inserts, in order; JSON columns are sent as text and cast. */
export const EVENT_LOG_INSERT_COLUMNS = [
  'id',
  'tenant_id',
  'type',
  'schema_version',
  'aggregate_type',
  'aggregate_id',
  'aggregate_version',
  'command_id',
  'payload',
  'trace_context',
  'occurred_at',
] as const satisfies readonly (keyof NewEventLogRow)[];

const JSON_COLUMNS: ReadonlySet<keyof NewEventLogRow> = new Set(['payload', 'trace_context']);
const ROW_PLACEHOLDERS = `(${EVENT_LOG_INSERT_COLUMNS.map((column) => (JSON_COLUMNS.has(column) ? '?::jsonb' : '?')).join(', ')})`;

/** `insert into outbox_events (...) values (...), ...` for `count` rows, with `?` placeholders. */
export function eventLogInsert(count: number): string {
  return `insert into outbox_events (${EVENT_LOG_INSERT_COLUMNS.join(', ')}) values ${Array(count).fill(ROW_PLACEHOLDERS).join(', ')}`;
}

/**
 * `insert into outbox_events (...) select ... from <source>`: one row, written only if `source` (a
 * CTE of the same statement) yields one, with `?` placeholders as for `eventLogInsert`.
 */
export function eventLogInsertFrom(source: string): string {
  return `insert into outbox_events (${EVENT_LOG_INSERT_COLUMNS.join(', ')}) select ${ROW_PLACEHOLDERS.slice(1, -1)} from ${source}`;
}

/** The placeholder values of one row for `eventLogInsert`, in column order. */
export function eventLogValues(row: NewEventLogRow): unknown[] {
  return EVENT_LOG_INSERT_COLUMNS.map((column) =>
    JSON_COLUMNS.has(column) ? (row[column] === null ? null : JSON.stringify(row[column])) : row[column],
  );
}

/** The envelope an event travels in, read back from the log in today's shape (the relay and rebuilds share it). */
export function eventFromLogRow(row: EventLogRow): DomainEvent {
  return upcast({
    id: row.id,
    position: String(row.position),
    type: row.type,
    schemaVersion: row.schema_version,
    tenantId: row.tenant_id,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    aggregateVersion: row.aggregate_version,
    commandId: row.command_id,
    occurredAt: new Date(row.occurred_at).toISOString(),
    payload: row.payload,
    traceContext: row.trace_context,
  } as DomainEvent);
}
