import { defineEntity, p } from '@mikro-orm/core';

/**
 * A row of the transactional outbox, written in the same transaction as the change it
 * describes. Rows are kept: the outbox is also the event log that rebuilds read models.
 */
export const OutboxEventSchema = defineEntity({
  name: 'OutboxEvent',
  tableName: 'outbox_events',
  properties: {
    id: p.uuid().primary(),
    // Assigned by PostgreSQL (identity column); read back by the relay, never written here.
    position: p.bigint().persist(false).nullable(),
    tenantId: p.text(),
    type: p.text(),
    schemaVersion: p.integer(),
    aggregateType: p.text(),
    aggregateId: p.text(),
    aggregateVersion: p.integer(),
    commandId: p.uuid().nullable(),
    payload: p.json<Record<string, unknown>>(),
    traceContext: p.json<Record<string, string>>().nullable(),
    occurredAt: p.datetime(),
    publishedAt: p.datetime().nullable(),
  },
});
export class OutboxEvent extends OutboxEventSchema.class {}
OutboxEventSchema.setClass(OutboxEvent);
