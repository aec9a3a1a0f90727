import { defineEntity, p } from '@mikro-orm/core';
import type { IntegrationEventType } from '../../events/integration/index.js';
import type { NewEvent, WebhookEventPayloads, WebhookEventType, WebhookSubscriptionSnapshot } from '../../events/index.js';
import { SCHEMA_VERSIONS } from '../../events/upcasting.js';
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
    eventTypes: p.array<IntegrationEventType>(),
    secret: p.text(),
    version: p.integer(),
    createdAt: p.datetime(),
  },
});

type WebhookEventOf<K extends WebhookEventType> = NewEvent<K, WebhookEventPayloads[K]>;

export class WebhookSubscription extends WebhookSubscriptionSchema.class {
  /** Only a target that passed the WebhookTargetPolicy can be subscribed. */
  static subscribe(input: {
    id: string;
    tenantId: string;
    target: CheckedTarget;
    eventTypes: readonly IntegrationEventType[];
    sealedSecret: string;
    now: Date;
  }): { subscription: WebhookSubscription; event: WebhookEventOf<'WebhookSubscribed'> } {
    const subscription = new WebhookSubscription();
    Object.assign(subscription, {
      id: input.id,
      tenantId: input.tenantId,
      url: input.target.url.href,
      eventTypes: [...new Set(input.eventTypes)],
      secret: input.sealedSecret,
      version: 1,
      createdAt: input.now,
    });
    return { subscription, event: subscription.event('WebhookSubscribed') };
  }

  /** The subscription ends: its row goes (the caller removes it), the event log keeps that it existed. */
  delete(): WebhookEventOf<'WebhookDeleted'> {
    this.version += 1;
    return this.event('WebhookDeleted');
  }

  snapshot(): WebhookSubscriptionSnapshot {
    return { webhookId: this.id, url: this.url, eventTypes: [...this.eventTypes], createdAt: this.createdAt.toISOString() };
  }

  private event<K extends WebhookEventType>(type: K): WebhookEventOf<K> {
    return {
      type,
      schemaVersion: SCHEMA_VERSIONS[type],
      aggregateType: 'Webhook',
      aggregateId: this.id,
      aggregateVersion: this.version,
      payload: { webhook: this.snapshot() },
    };
  }
}
WebhookSubscriptionSchema.setClass(WebhookSubscription);
