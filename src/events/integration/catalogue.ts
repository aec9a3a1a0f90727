/**
 * Integration events: what leaves the service (webhooks). Domain events (src/events/*.events.ts)
 * serve the inside and may change with the code; these are a public contract, versioned on their
 * own (docs/webhooks.md), described by the AsyncAPI document generated from the schemas below
 * (`npm run gen`, served at /asyncapi.json). This file is the one place that maps a domain event
 * to the integration event it is published as; a domain event not mapped here is never published.
 */
import { z } from 'zod';
import type { DomainEvent, DomainEventPayloads, DomainEventType, EventEnvelope } from '../index.js';
import { publicCustomerV1, CustomerProfileChangedV1 } from './customer.integration.js';
import {
  OrderCancelledV1,
  OrderExpiredV1,
  OrderPaidV1,
  OrderPaymentFailedV1,
  OrderPlacedV1,
  OrderShippedV1,
  publicOrderV1,
} from './order.integration.js';
import { ProductCreatedV1, ProductUpdatedV1, publicProductV1 } from './product.integration.js';

/**
 * A public event type webhooks can subscribe to and receive: its payload is described by the
 * message `<type>.v<version>` of `/asyncapi.json` (docs/webhooks.md).
 */
export type IntegrationEventType =
  | 'order.placed'
  | 'order.paid'
  | 'order.payment_failed'
  | 'order.expired'
  | 'order.cancelled'
  | 'order.shipped'
  | 'product.created'
  | 'product.updated'
  | 'customer.profile_changed';

interface DeclaredEvent {
  /** The version of `data`: additive changes keep it, anything else is a new version (docs/webhooks.md). */
  version: number;
  summary: string;
  /** The domain event it is published from. */
  from: DomainEventType;
  data: z.ZodType;
}

interface Declaration<D extends DomainEventType, S extends z.ZodType> extends DeclaredEvent {
  from: D;
  data: S;
  map: (event: EventEnvelope<NoInfer<D>, DomainEventPayloads[NoInfer<D>]>) => z.input<S>;
}

const declare = <D extends DomainEventType, S extends z.ZodType>(declaration: Declaration<D, S>) => declaration;

export const INTEGRATION_EVENTS = {
  'order.placed': declare({
    version: 1,
    summary: 'A customer placed an order; its payment is being authorized.',
    from: 'OrderPlaced',
    data: OrderPlacedV1,
    map: ({ payload }) => ({
      order: publicOrderV1(payload.order),
      customer: { name: payload.customer.name, email: payload.customer.email },
    }),
  }),
  'order.paid': declare({
    version: 1,
    summary: "The order's payment was authorized.",
    from: 'OrderPaid',
    data: OrderPaidV1,
    map: ({ payload }) => ({ order: publicOrderV1(payload.order) }),
  }),
  'order.payment_failed': declare({
    version: 1,
    summary: "The order's payment was declined or could not be made; the order is closed.",
    from: 'OrderPaymentFailed',
    data: OrderPaymentFailedV1,
    map: ({ payload }) => ({ order: publicOrderV1(payload.order), reason: payload.reason }),
  }),
  'order.expired': declare({
    version: 1,
    summary: 'The order was not paid in time and is closed.',
    from: 'OrderExpired',
    data: OrderExpiredV1,
    map: ({ payload }) => ({ order: publicOrderV1(payload.order) }),
  }),
  'order.cancelled': declare({
    version: 1,
    summary: 'The order was cancelled; a paid one is refunded.',
    from: 'OrderCancelled',
    data: OrderCancelledV1,
    map: ({ payload }) => ({ order: publicOrderV1(payload.order), refundedCents: payload.refundedCents }),
  }),
  'order.shipped': declare({
    version: 1,
    summary: 'The order was shipped.',
    from: 'OrderShipped',
    data: OrderShippedV1,
    map: ({ payload }) => ({ order: publicOrderV1(payload.order) }),
  }),
  'product.created': declare({
    version: 1,
    summary: 'An admin added a product to the catalogue.',
    from: 'ProductCreated',
    data: ProductCreatedV1,
    map: ({ payload }) => ({ product: publicProductV1(payload.product) }),
  }),
  'product.updated': declare({
    version: 1,
    summary: 'An admin renamed, repriced, or (de)activated a product.',
    from: 'ProductUpdated',
    data: ProductUpdatedV1,
    map: ({ payload }) => ({ product: publicProductV1(payload.product) }),
  }),
  'customer.profile_changed': declare({
    version: 1,
    summary: "A customer's profile was first seen or edited.",
    from: 'CustomerProfileChanged',
    data: CustomerProfileChangedV1,
    map: ({ payload }) => ({ customer: publicCustomerV1(payload.profile) }),
  }),
} as const satisfies Record<IntegrationEventType, DeclaredEvent>;

export const INTEGRATION_EVENT_TYPES = Object.keys(INTEGRATION_EVENTS) as IntegrationEventType[];

/** The integration event type a domain event type is published as, if any. */
const PUBLISHED_AS = new Map<DomainEventType, IntegrationEventType>(
  INTEGRATION_EVENT_TYPES.map((type) => [INTEGRATION_EVENTS[type].from, type]),
);

/** Domain event types that leave the service (as the integration events above). */
export const PUBLISHED_DOMAIN_EVENT_TYPES: readonly DomainEventType[] = [...PUBLISHED_AS.keys()];

export function isIntegrationEventType(type: string): type is IntegrationEventType {
  return Object.hasOwn(INTEGRATION_EVENTS, type);
}

/** The envelope every integration event travels in: the body of a webhook delivery. */
export function integrationEventSchema<T extends IntegrationEventType>(type: T) {
  const { version, data } = INTEGRATION_EVENTS[type];
  return z.object({
    id: z.uuid().describe('Unique per event; also the `Webhook-Id` header, the same on every retry: deduplicate on it.'),
    type: z.literal(type),
    version: z.literal(version).describe('Version of `data` for this type; see docs/webhooks.md, "Versioning".'),
    occurredAt: z.iso.datetime().describe('When the change happened (not when it was delivered).'),
    tenantId: z.string(),
    data,
  });
}

/** Built once per type: a zod schema is costly to build, and every published event is parsed. */
const schemas = new Map<IntegrationEventType, { parse(value: unknown): unknown }>();
function schemaOf(type: IntegrationEventType): { parse(value: unknown): unknown } {
  let schema = schemas.get(type);
  if (!schema) schemas.set(type, (schema = integrationEventSchema(type)));
  return schema;
}

export interface IntegrationEvent {
  id: string;
  type: IntegrationEventType;
  version: number;
  occurredAt: string;
  tenantId: string;
  data: unknown;
}

/**
 * The integration event a domain event is published as, or null when it is not published.
 * The result is parsed by its schema: a field the schema does not declare never leaves, and a
 * mapping that breaks the contract throws (a ZodError) instead of sending a wrong payload.
 */
export function toIntegrationEvent(event: DomainEvent): IntegrationEvent | null {
  const type = PUBLISHED_AS.get(event.type);
  if (!type) return null;
  const declared = INTEGRATION_EVENTS[type] as DeclaredEvent & { map: (event: DomainEvent) => unknown };
  return schemaOf(type).parse({
    id: event.id,
    type,
    version: declared.version,
    occurredAt: event.occurredAt,
    tenantId: event.tenantId,
    data: declared.map(event),
  }) as IntegrationEvent;
}
