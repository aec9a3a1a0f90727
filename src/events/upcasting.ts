import type { DomainEvent, DomainEventType } from './index.js';

/**
 * The schema version each event type is written with today. A change a reader of older events
 * could not handle bumps the version here and adds the upcaster from the previous one below; the
 * log keeps every version ever written, and rebuilds and jobs read them all through `upcast`.
 */
export const SCHEMA_VERSIONS: Readonly<Record<DomainEventType, number>> = {
  OrderPlaced: 1,
  OrderPaid: 1,
  OrderPaymentFailed: 1,
  OrderExpired: 1,
  OrderCancelled: 2,
  OrderShipped: 1,
  ProductCreated: 1,
  ProductUpdated: 1,
  CustomerProfileChanged: 1,
  WebhookSubscribed: 1,
  WebhookDeleted: 1,
};

type Upcaster = (payload: Record<string, unknown>) => Record<string, unknown>;

/** For each type, the step that turns version N (the key) into N + 1. */
const UPCASTERS: Partial<Record<DomainEventType, Readonly<Record<number, Upcaster>>>> = {
  OrderCancelled: {
    // v2 names the authorization a refund goes against; v1 events predate it.
    1: (payload) => ({ ...payload, authorizationId: payload.authorizationId ?? null }),
  },
};

/** An event written by a newer version of the service than this one: retry once this one is replaced. */
export class NewerSchemaVersionError extends Error {
  override name = 'NewerSchemaVersionError';
}

/**
 * The event in today's shape: current events pass through untouched (no copy), older ones are
 * upcast one version at a time. Readers (projections, processes) only ever see current versions.
 */
export function upcast(event: DomainEvent): DomainEvent {
  const current = SCHEMA_VERSIONS[event.type];
  if (event.schemaVersion === current) return event;
  if (event.schemaVersion > current) {
    throw new NewerSchemaVersionError(`${event.type} v${event.schemaVersion} is newer than this reader (v${current})`);
  }
  let payload = event.payload as unknown as Record<string, unknown>;
  for (let version = event.schemaVersion; version < current; version++) {
    const step = UPCASTERS[event.type]?.[version];
    if (!step) throw new Error(`no upcaster from ${event.type} v${version}`);
    payload = step(payload);
  }
  return { ...event, schemaVersion: current, payload } as DomainEvent;
}
