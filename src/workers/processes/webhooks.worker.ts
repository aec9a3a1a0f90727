import { UnrecoverableError, type Job, type Queue } from 'bullmq';
import { WebhookTargetPolicy } from '../../commands/webhooks/webhook-target.js';
import type { DomainEvent } from '../../events/index.js';
import { toIntegrationEvent, type IntegrationEvent } from '../../events/integration/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Config } from '../../platform/config.js';
import type { Orm } from '../../platform/db/orm.js';
import type { SecretBox } from '../../platform/secret-box.js';
import type { JobHandler } from '../consumer.js';
import type { QueueName } from '../queues.js';
import { eventFromJob } from '../job-envelope.js';
import { DELIVER_WEBHOOK, webhookDelivery, type WebhookDelivery } from './webhook-delivery.js';
import { subscriptionsTo } from './webhook-subscribers.js';

/**
 * The webhooks queue carries two kinds of jobs: every domain event that is published (from the
 * relay), which becomes its integration event and fans out into one delivery job per
 * subscription to that type, and those deliveries.
 */
export function webhooksHandler(deps: {
  orm: Orm;
  config: Config;
  clock: Clock;
  queues: ReadonlyMap<QueueName, Queue>;
  secrets: SecretBox;
}): JobHandler {
  const { orm, config, clock } = deps;
  const policy = new WebhookTargetPolicy(config.WEBHOOK_ALLOWED_HOSTS);
  const fanOut = webhookFanOut(orm, deps.queues.get('webhooks')!);
  const deliver = webhookDelivery(orm, policy, clock, deps.secrets, {
    timeoutMs: config.WEBHOOK_TIMEOUT,
    userAgent: `${config.SERVICE_NAME}-webhooks`,
  });
  return (job) => (job.name === DELIVER_WEBHOOK ? deliver(job) : fanOut(job));
}

/**
 * One delivery job per subscription of the event's tenant and type (the relay enqueues the event
 * only when it had one; it may have been deleted since). Subscriptions made after the event
 * occurred do not receive it, not even on a redelivery. Job ids are derived from the
 * event and the subscription, so a redelivered event adds nothing BullMQ still holds: receivers
 * get each event at least once, and a second time only in the rare cases at-least-once allows.
 */
export function webhookFanOut(orm: Orm, deliveries: Queue) {
  return async (job: Job): Promise<{ deliveries: number }> => {
    const event = eventFromJob(job.data);
    const published = integrationEventOf(event);
    if (!published) return { deliveries: 0 };
    const subscriptions = await subscriptionsTo(orm, published);
    await deliveries.addBulk(
      subscriptions.map((subscription) => ({
        name: DELIVER_WEBHOOK,
        data: { subscriptionId: subscription.id, payload: published } satisfies WebhookDelivery,
        // Attempts and backoff: the queue's declared defaults (WEBHOOK_ATTEMPTS, WEBHOOK_RETRY_DELAY).
        opts: { jobId: deliveryJobId(event.id, subscription.id) },
      })),
    );
    return { deliveries: subscriptions.length };
  };
}

/** BullMQ job ids may not contain ':'. */
export const deliveryJobId = (eventId: string, subscriptionId: string): string => `${eventId}.${subscriptionId}`;

/** A mapping that breaks the public contract will not heal on a retry: dead-letter, fix, redrive. */
function integrationEventOf(event: DomainEvent): IntegrationEvent | null {
  try {
    return toIntegrationEvent(event);
  } catch (error) {
    throw new UnrecoverableError(`${event.type} ${event.id} does not map to its integration event: ${String(error)}`);
  }
}
