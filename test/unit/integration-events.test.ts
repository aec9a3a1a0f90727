import { expect } from 'chai';
import {
  DOMAIN_EVENT_TYPES,
  type DomainEvent,
  type DomainEventPayloads,
  type DomainEventType,
  type OrderSnapshot,
} from '../../src/events/index.js';
import {
  INTEGRATION_EVENTS,
  INTEGRATION_EVENT_TYPES,
  PUBLISHED_DOMAIN_EVENT_TYPES,
  toIntegrationEvent,
} from '../../src/events/integration/index.js';
import { SCHEMA_VERSIONS } from '../../src/events/upcasting.js';
import { eventFromJob } from '../../src/workers/job-envelope.js';
import { integrationEventViolations } from '../support/webhook-contract.js';

const AT = '2026-11-29T12:00:00.000Z';
const ORDER_ID = '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f';
const PRODUCT_ID = '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e60';

const order: OrderSnapshot = {
  orderId: ORDER_ID,
  customerId: 'ada',
  lines: [{ productId: PRODUCT_ID, name: 'Mug', quantity: 2, unitPriceCents: 500 }],
  totalCents: 1000,
  currency: 'EUR',
  status: 'paid',
  statusHistory: [
    { status: 'placed', at: AT },
    { status: 'paid', at: AT },
  ],
  internalNote: 'VIP, call before shipping',
  riskScore: 42,
  placedAt: AT,
  updatedAt: AT,
};
const product = { productId: PRODUCT_ID, sku: 'MUG', name: 'Mug', priceCents: 500, currency: 'EUR', active: true, updatedAt: AT };

/** A payload of every published domain event type, with every internal field filled in. */
const PAYLOADS: { [K in DomainEventType]?: DomainEventPayloads[K] } = {
  OrderPlaced: { order: { ...order, status: 'placed' }, customer: { name: 'Ada', email: 'ada@example.com', version: 3 } },
  OrderPaid: { order, authorizationId: 'auth-123' },
  OrderPaymentFailed: { order: { ...order, status: 'payment_failed' }, reason: 'card declined' },
  OrderExpired: { order: { ...order, status: 'expired' } },
  OrderCancelled: { order: { ...order, status: 'cancelled' }, refundedCents: 1000, authorizationId: 'auth-123' },
  OrderShipped: { order: { ...order, status: 'shipped' } },
  ProductCreated: { product },
  ProductUpdated: { product: { ...product, active: false } },
  CustomerProfileChanged: { profile: { customerId: 'ada', name: 'Ada', email: 'ada@example.com' } },
};

function domainEvent<K extends DomainEventType>(type: K, payload: DomainEventPayloads[K]): DomainEvent {
  return {
    id: '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e61',
    position: '7',
    type,
    schemaVersion: SCHEMA_VERSIONS[type],
    tenantId: 'acme',
    aggregateType: 'Order',
    aggregateId: ORDER_ID,
    aggregateVersion: 2,
    commandId: null,
    occurredAt: AT,
    payload,
    traceContext: null,
  } as DomainEvent;
}

describe('Integration events: the public contract of webhooks, mapped from domain events in one place', () => {
  it('When the domain gains an event type, then it is published or explicitly internal (nothing leaves by accident)', () => {
    const internal = ['WebhookSubscribed', 'WebhookDeleted'];
    expect([...PUBLISHED_DOMAIN_EVENT_TYPES, ...internal]).to.have.members([...DOMAIN_EVENT_TYPES]);
    expect(PUBLISHED_DOMAIN_EVENT_TYPES).to.have.length(INTEGRATION_EVENT_TYPES.length);
  });

  for (const type of INTEGRATION_EVENT_TYPES) {
    const { from, version } = INTEGRATION_EVENTS[type];
    it(`When ${from} is published, then it is ${type} v${version}, valid against the AsyncAPI document with no undocumented field`, () => {
      const published = toIntegrationEvent(domainEvent(from, PAYLOADS[from]!));

      expect(published).to.deep.include({
        id: '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e61',
        type,
        version,
        occurredAt: AT,
        tenantId: 'acme',
      });
      expect(integrationEventViolations(published)).to.deep.equal([]);
    });
  }

  it('When an order event is published, then staff-only fields, payment references and history stay inside', () => {
    const published = toIntegrationEvent(domainEvent('OrderPaid', PAYLOADS.OrderPaid!));

    expect(published!.data).to.deep.equal({
      order: {
        id: ORDER_ID,
        status: 'paid',
        customerId: 'ada',
        lines: [{ productId: PRODUCT_ID, name: 'Mug', quantity: 2, unitPriceCents: 500 }],
        totalCents: 1000,
        currency: 'EUR',
        placedAt: AT,
        updatedAt: AT,
      },
    });
    expect(JSON.stringify(published)).not.to.match(/internalNote|riskScore|authorizationId|auth-123|VIP|statusHistory/);
  });

  it('When order.placed and order.cancelled are published, then they carry the customer and the refund', () => {
    const placed = toIntegrationEvent(domainEvent('OrderPlaced', PAYLOADS.OrderPlaced!));
    const cancelled = toIntegrationEvent(domainEvent('OrderCancelled', PAYLOADS.OrderCancelled!));

    expect(placed!.data).to.deep.include({ customer: { name: 'Ada', email: 'ada@example.com' } });
    expect(cancelled!.data).to.deep.include({ refundedCents: 1000 });
  });

  it('When an older domain event version is published (an OrderCancelled v1 job), then it is upcast first and its integration event is unchanged', () => {
    const { authorizationId: _v2Only, ...v1Payload } = PAYLOADS.OrderCancelled!;
    const v1 = { ...domainEvent('OrderCancelled', v1Payload), schemaVersion: 1 };

    const published = toIntegrationEvent(eventFromJob(v1));

    expect(published).to.deep.equal(toIntegrationEvent(domainEvent('OrderCancelled', PAYLOADS.OrderCancelled!)));
    expect(integrationEventViolations(published)).to.deep.equal([]);
  });

  it('When a domain event is internal, then it is not published', () => {
    const webhook = { webhookId: ORDER_ID, url: 'https://hooks.example.com/', eventTypes: ['order.paid'], createdAt: AT };
    expect(toIntegrationEvent(domainEvent('WebhookDeleted', { webhook }))).to.equal(null);
  });

  it('When a domain event cannot be mapped to a valid integration event, then mapping throws instead of sending it', () => {
    const broken = { ...PAYLOADS.OrderPaid!, order: { ...order, currency: 'EURO' } };
    expect(() => toIntegrationEvent(domainEvent('OrderPaid', broken))).to.throw(/currency/);
  });

  it('When a payload carries an undocumented field, a wrong version or a missing field, then the contract check names each', () => {
    const published = toIntegrationEvent(domainEvent('OrderPaid', PAYLOADS.OrderPaid!))!;
    const data = published.data as { order: Record<string, unknown> };

    expect(integrationEventViolations({ ...published, data: { order: { ...data.order, riskScore: 42 } } })).to.deep.equal([
      'order.paid.v1 body/data/order must NOT have additional properties ("riskScore")',
    ]);
    expect(integrationEventViolations({ ...published, version: 2 })[0]).to.match(/^no message order\.paid\.v2/);
    expect(integrationEventViolations({ ...published, tenantId: undefined })).to.deep.equal([
      'order.paid.v1 body must have required property \'tenantId\' ("tenantId")',
    ]);
  });
});
