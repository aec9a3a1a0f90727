import { INTEGRATION_EVENT_TYPES, INTEGRATION_EVENTS, type IntegrationEvent } from '../../events/integration/index.js';
import type { Orm } from '../../platform/db/orm.js';

/**
 * Who subscribes to an event, asked twice with one rule: a subscription of the event's tenant to
 * its integration event type, made no later than the event occurred. The relay asks first, in its
 * claim statement, so that an event nobody subscribes to gets no webhooks job at all (most events
 * of most tenants); the fan-out job asks again for the ids, since a subscription may have been
 * deleted in between.
 */

/** Safe to write into SQL text: the catalogue's type names are identifiers with dots. */
const literal = (name: string): string => {
  if (!/^[A-Za-z][A-Za-z0-9._]*$/.test(name)) throw new Error(`unexpected event type name ${name}`);
  return `'${name}'`;
};

/** The claimed row's integration event type, or NULL for a domain event that is not published. */
const INTEGRATION_TYPE_OF_ROW = `case event.type ${INTEGRATION_EVENT_TYPES.map(
  (type) => `when ${literal(INTEGRATION_EVENTS[type].from)} then ${literal(type)}`,
).join(' ')} end`;

/**
 * True when the outbox row `event` has a subscriber: the webhooks queue's `onlyIf` (src/workers/queues.ts),
 * evaluated by the relay in the statement that claims the row.
 */
export const EVENT_HAS_WEBHOOK_SUBSCRIBER = `exists (select 1 from webhook_subscriptions subscription
    where subscription.tenant_id = event.tenant_id
      and subscription.event_types @> array[${INTEGRATION_TYPE_OF_ROW}]::text[]
      and subscription.created_at <= event.occurred_at)`;

/**
 * The subscriptions a published event fans out to. Read from the primary, not a replica: a
 * subscription made a moment ago is already there. One plain statement.
 */
export function subscriptionsTo(orm: Orm, event: IntegrationEvent): Promise<{ id: string }[]> {
  return orm.em.getConnection('write').execute<{ id: string }[]>(
    `select id from webhook_subscriptions
      where tenant_id = ? and event_types @> array[?]::text[] and created_at <= ?::timestamptz order by id`,
    [event.tenantId, event.type, event.occurredAt],
  );
}
