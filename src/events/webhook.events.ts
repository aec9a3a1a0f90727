import type { EventEnvelope } from './envelope.js';

/** A subscription as its events carry it: never its signing secret. */
export interface WebhookSubscriptionSnapshot {
  webhookId: string;
  url: string;
  eventTypes: string[];
  createdAt: string;
}

/**
 * Domain events of webhook subscriptions: internal bookkeeping (the event log records who
 * subscribed what and when it ended); they are not published as integration events.
 */
export interface WebhookEventPayloads {
  WebhookSubscribed: { webhook: WebhookSubscriptionSnapshot };
  WebhookDeleted: { webhook: WebhookSubscriptionSnapshot };
}

export type WebhookEventType = keyof WebhookEventPayloads;
export type WebhookEvent = { [K in WebhookEventType]: EventEnvelope<K, WebhookEventPayloads[K]> }[WebhookEventType];
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = ['WebhookSubscribed', 'WebhookDeleted'];
