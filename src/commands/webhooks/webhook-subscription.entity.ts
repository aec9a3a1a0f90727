import { defineEntity, p } from '@mikro-orm/core';
import type { DomainEventType } from '../../events/index.js';
import type { CheckedTarget } from './webhook-target.js';

/**
 * A tenant's subscription of one URL to some event types; `secret` signs every delivery and is
 * stored sealed (AES-GCM, see SecretBox): the table never holds it in plain text.
 */
export const WebhookSubscriptionSchema = defineEntity({
  name: 'WebhookSubscription',
  tableName: 'webhook_subscriptions',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.text(),
    url: p.text(),
    eventTypes: p.array<DomainEventType>(),
    secret: p.text(),
    createdAt: p.datetime(),
  },
});

export class WebhookSubscription extends WebhookSubscriptionSchema.class {
  /** Only a target that passed the WebhookTargetPolicy can be subscribed. */
  static subscribe(input: {
    id: string;
    tenantId: string;
    target: CheckedTarget;
    eventTypes: readonly DomainEventType[];
    sealedSecret: string;
    now: Date;
  }): WebhookSubscription {
    const subscription = new WebhookSubscription();
    Object.assign(subscription, {
      id: input.id,
      tenantId: input.tenantId,
      url: input.target.url.href,
      eventTypes: [...new Set(input.eventTypes)],
      secret: input.sealedSecret,
      createdAt: input.now,
    });
    return subscription;
  }
}
WebhookSubscriptionSchema.setClass(WebhookSubscription);
