import { UnrecoverableError } from 'bullmq';
import { DOMAIN_EVENT_TYPES, type DomainEvent } from '../events/index.js';
import { upcast } from '../events/upcasting.js';

/**
 * Checks that job data is an event envelope this version understands, and returns it in today's
 * shape (older schema versions upcast). A payload that fails here will never succeed, so it is
 * not retried: it goes straight to the dead-letter queue. A newer schema version is retried: a
 * rolling deploy replaces this worker soon.
 */
export function eventFromJob(data: unknown): DomainEvent {
  const event = data as Partial<DomainEvent> | null;
  const problems = [
    typeof event?.id !== 'string' && 'id',
    typeof event?.tenantId !== 'string' && 'tenantId',
    !DOMAIN_EVENT_TYPES.includes(event?.type as never) && 'type',
    typeof event?.aggregateVersion !== 'number' && 'aggregateVersion',
    typeof event?.schemaVersion !== 'number' && 'schemaVersion',
    (typeof event?.payload !== 'object' || event.payload === null) && 'payload',
  ].filter(Boolean);
  if (problems.length) throw new UnrecoverableError(`not a known event envelope (bad ${problems.join(', ')})`);
  return upcast(event as DomainEvent);
}

/** The job name of a batch of events (a lone event's job is named after its type). */
export const BATCH_JOB_NAME = 'batch';

/** A batched queue's job data when it carries several events (src/workers/queues.ts: `batchSize`). */
export interface EventBatch {
  events: unknown[];
}

export function isEventBatch(data: unknown): data is EventBatch {
  return typeof data === 'object' && data !== null && Array.isArray((data as Partial<EventBatch>).events);
}
