import type { DomainEventType } from '../events/index.js';
import type { QueueName } from './queues.js';

/** Where an event goes. `delayed` routes are due a configured time after the event occurred. */
export interface Route {
  queue: QueueName;
  delayed?: 'orderPaymentTimeout';
}

const toEveryReader: Route[] = [{ queue: 'projections' }, { queue: 'webhooks' }];

/**
 * The event routing table: for each event type, the queues that receive it. Adding a process is
 * adding a route here and a worker in src/workers/processes.
 */
export const ROUTES: Record<DomainEventType, Route[]> = {
  OrderPlaced: [...toEveryReader, { queue: 'payments' }, { queue: 'order-expiry', delayed: 'orderPaymentTimeout' }],
  OrderPaid: toEveryReader,
  OrderPaymentFailed: toEveryReader,
  OrderExpired: toEveryReader,
  OrderCancelled: toEveryReader,
  OrderShipped: toEveryReader,
  ProductCreated: toEveryReader,
  ProductUpdated: toEveryReader,
  CustomerProfileChanged: toEveryReader,
};

export function routesOf(type: string): Route[] {
  return ROUTES[type as DomainEventType] ?? [];
}
