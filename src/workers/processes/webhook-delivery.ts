import { UnrecoverableError, type Job } from 'bullmq';
import type { CheckedTarget, WebhookTargetPolicy } from '../../commands/webhooks/webhook-target.js';
import { WebhookTargetRefusedError } from '../../commands/webhooks/webhook.errors.js';
import { webhookSecretContext } from '../../commands/webhooks/subscribe-webhook.handler.js';
import { WebhookSubscription } from '../../commands/webhooks/webhook-subscription.entity.js';
import { isIntegrationEventType, type IntegrationEvent } from '../../events/integration/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/orm.js';
import type { SecretBox } from '../../platform/secret-box.js';
import { postPinned } from '../../platform/net/pinned-post.js';
import { signWebhook } from '../../platform/webhook-signature.js';

/** Job name of one delivery (one event to one subscription) on the webhooks queue. */
export const DELIVER_WEBHOOK = 'deliver-webhook';

/**
 * One delivery job: the subscription and the body it gets, an integration event (the public,
 * versioned contract of src/events/integration, docs/webhooks.md), never a domain event.
 */
export interface WebhookDelivery {
  subscriptionId: string;
  payload: IntegrationEvent;
}

export interface DeliverySettings {
  timeoutMs: number;
  userAgent: string;
}

/**
 * Delivers one event to one subscription: signed POST to the checked address, 2xx or it throws
 * (BullMQ retries with backoff; the consumer dead-letters after the last attempt). A subscription
 * that was deleted, or a target that is now refused, can never succeed: no retries.
 */
export function webhookDelivery(
  orm: Orm,
  policy: WebhookTargetPolicy,
  clock: Clock,
  secrets: SecretBox,
  settings: DeliverySettings,
) {
  return async (job: Job): Promise<{ status: number }> => {
    const { subscriptionId, payload } = deliveryFromJob(job.data);
    // The primary, not a replica: a subscription deleted a moment ago must not be delivered to.
    const subscription = await orm.em
      .fork()
      .findOne(WebhookSubscription, { id: subscriptionId, tenantId: payload.tenantId }, { connectionType: 'write' });
    if (!subscription) throw new UnrecoverableError(`webhook subscription ${subscriptionId} no longer exists`);
    const target = await policy.check(subscription.url).catch(refusalIsFinal);

    const body = JSON.stringify(payload);
    const timestamp = Math.floor(clock.now().getTime() / 1000);
    const { status } = await postPinned({
      url: target.url,
      address: target.addresses[0],
      body,
      timeoutMs: settings.timeoutMs,
      headers: {
        'content-type': 'application/json',
        'user-agent': settings.userAgent,
        'webhook-id': payload.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(
          secrets.open(subscription.secret, webhookSecretContext(subscription.id)),
          timestamp,
          body,
        ),
      },
    });
    if (status < 200 || status >= 300) throw new Error(`${target.url.host} answered ${status}`);
    return { status };
  };
}

function refusalIsFinal(error: unknown): CheckedTarget {
  if (error instanceof WebhookTargetRefusedError) throw new UnrecoverableError(error.detail);
  throw error;
}

function deliveryFromJob(data: unknown): WebhookDelivery {
  const delivery = data as Partial<WebhookDelivery> | null;
  if (typeof delivery?.subscriptionId !== 'string' || typeof delivery.payload?.id !== 'string') {
    throw new UnrecoverableError('not a webhook delivery (needs subscriptionId and payload)');
  }
  // Jobs enqueued before integration events existed carried domain events: never send those.
  if (!isIntegrationEventType(String(delivery.payload.type))) {
    throw new UnrecoverableError(`not an integration event: ${String(delivery.payload.type)}`);
  }
  return delivery as WebhookDelivery;
}
