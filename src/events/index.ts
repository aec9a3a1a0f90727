import type { CustomerEvent, CustomerEventPayloads } from './customer.events.js';
import type { OrderEvent, OrderEventPayloads } from './order.events.js';
import type { ProductEvent, ProductEventPayloads } from './product.events.js';
import type { WebhookEvent, WebhookEventPayloads } from './webhook.events.js';
import { CUSTOMER_EVENT_TYPES } from './customer.events.js';
import { ORDER_EVENT_TYPES } from './order.events.js';
import { PRODUCT_EVENT_TYPES } from './product.events.js';
import { WEBHOOK_EVENT_TYPES } from './webhook.events.js';

export * from './envelope.js';
export * from './order.events.js';
export * from './product.events.js';
export * from './customer.events.js';
export * from './webhook.events.js';

export type DomainEventPayloads = OrderEventPayloads & ProductEventPayloads & CustomerEventPayloads & WebhookEventPayloads;
export type DomainEventType = keyof DomainEventPayloads;
export type DomainEvent = OrderEvent | ProductEvent | CustomerEvent | WebhookEvent;
export const DOMAIN_EVENT_TYPES: readonly DomainEventType[] = [
  ...ORDER_EVENT_TYPES,
  ...PRODUCT_EVENT_TYPES,
  ...CUSTOMER_EVENT_TYPES,
  ...WEBHOOK_EVENT_TYPES,
];
