import type { DomainEvent } from './index.js';
import { upcast } from './upcasting.js';

/**
 * The event log is the outbox table: the write side appends to it in the command's transaction,
 * the relay publishes from it and rebuilds replay it. Its row shape, its wake-up channel and the
 * envelope read back from a row are the contract all three share, so they live here, once.
 */

/** The PostgreSQL channel a committing command notifies, which wakes the outbox relay. */
export const OUTBOX_CHANNEL = 'outbox_events';

/** A row of outbox_events, the event log, as PostgreSQL returns it to plain SQL. */
export interface EventLogRow {
  id: string;
  position: string;
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
