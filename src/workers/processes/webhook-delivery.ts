import { UnrecoverableError, type Job } from 'bullmq';
import type { CheckedTarget, WebhookTargetPolicy } from '../../commands/webhooks/webhook-target.js';
import { WebhookTargetRefusedError } from '../../commands/webhooks/webhook.errors.js';
import { webhookSecretContext } from '../../commands/webhooks/subscribe-webhook.handler.js';
import { WebhookSubscription } from '../../commands/webhooks/webhook-subscription.entity.js';
import type { DomainEvent, DomainEventType } from '../../events/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/orm.js';
import type { SecretBox } from '../../platform/secret-box.js';
import { postPinned } from '../../platform/net/pinned-post.js';
import { signWebhook } from '../../platform/webhook-signature.js';

/** The JSON body of every delivery: a stable, documented contract (docs/webhooks.md). */
export interface WebhookPayload {
  /** The event's id; also the `Webhook-Id` header, the same on every retry. */
  id: string;
  type: DomainEventType;
  occurredAt: string;
  tenantId: string;
  /** The event's payload, as in src/events. */
  data: unknown;
}

/** Job name of one delivery (one event to one subscription) on the webhooks queue. */
export const DELIVER_WEBHOOK = 'deliver-webhook';

export interface WebhookDelivery {
  subscriptionId: string;
  payload: WebhookPayload;
}

export function webhookPayloadOf(event: DomainEvent): WebhookPayload {
  return { id: event.id, type: event.type, occurredAt: event.occurredAt, tenantId: event.tenantId, data: event.payload };
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
  return delivery as WebhookDelivery;
}
