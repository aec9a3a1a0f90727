import { defineEntity, p } from '@mikro-orm/core';
import type { IntegrationEventType } from '../../events/integration/index.js';

/**
 * Webhook subscriptions as the read side lists them: a query over the write side's small table (a
 * subscription is never projected) that leaves the signing secret out, so no query can return it.
 */
export const WebhookListingSchema = defineEntity({
  name: 'WebhookListing',
  expression: 'select id, tenant_id, url, event_types, created_at from webhook_subscriptions',
  properties: {
    id: p.uuid(),
    tenantId: p.text(),
    url: p.text(),
    eventTypes: p.array<IntegrationEventType>(),
    createdAt: p.datetime(),
  },
});
export class WebhookListing extends WebhookListingSchema.class {}
WebhookListingSchema.setClass(WebhookListing);
