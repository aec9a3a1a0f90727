import type { Services } from '../../src/composition-root.js';
import { eventFromLogRow, eventLogInsert, eventLogValues, type EventLogRow } from '../../src/events/event-log.js';
import type { DomainEvent, DomainEventType } from '../../src/events/index.js';
import { SCHEMA_VERSIONS } from '../../src/events/upcasting.js';
import { newId } from '../../src/platform/ids.js';

/**
 * Appends one event to the log as a command's transaction does (unpublished: a running relay
 * queues it) and returns it as readers see it. For parts that only need an event of a type, not a
 * story: the generated tests of `npm run new` use it.
 */
export async function appendEvent(
  services: Pick<Services, 'orm'>,
  tenantId: string,
  type: DomainEventType,
  payload: object = {},
): Promise<DomainEvent> {
  const values = eventLogValues({
    id: newId(),
    tenant_id: tenantId,
    type,
    schema_version: SCHEMA_VERSIONS[type],
    aggregate_type: 'Test',
    aggregate_id: newId(),
    aggregate_version: 1,
    command_id: null,
    payload,
    trace_context: null,
    occurred_at: new Date().toISOString(),
  });
  const [row] = await services.orm.em.fork().execute<EventLogRow[]>(`${eventLogInsert(1)} returning *`, values);
  return eventFromLogRow(row!);
}
