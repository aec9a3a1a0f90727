/**
 * The envelope every domain event travels in: written to the outbox by the command side,
 * carried as BullMQ job data by the relay, read by projections and processes.
 * Contracts only: types, the event log's row shape, and the upcasters that read older versions
 * of a payload in today's shape (src/events/upcasting.ts); no domain logic lives in src/events.
 */
export interface EventEnvelope<TType extends string = string, TPayload = unknown> {
  id: string;
  /** Global order of the event log (outbox position). */
  position: string;
  type: TType;
  /** Schema version of `payload`; bump it when the payload changes incompatibly. */
  schemaVersion: number;
  tenantId: string;
  aggregateType: string;
  aggregateId: string;
  /** The aggregate's version after this event: order-tolerant projections compare it. */
  aggregateVersion: number;
  commandId: string | null;
  occurredAt: string;
  payload: TPayload;
  /** W3C trace context of the request that produced the event. */
  traceContext: Record<string, string> | null;
}

/** What a command records; the outbox adds id, position, tenant, command and trace. */
export interface NewEvent<TType extends string = string, TPayload = unknown> {
  type: TType;
  schemaVersion: number;
  aggregateType: string;
  aggregateId: string;
  aggregateVersion: number;
  payload: TPayload;
}
