import { expect } from 'chai';
import type { DomainEvent } from '../../src/events/index.js';
import { FakePaymentGateway } from '../../src/workers/payments/fake-payment-gateway.js';
import { createProduct, rows } from '../support/fixtures.js';
import { eventually, http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

describe('Cancelling a paid order refunds it through the payment port (real relay and payments worker)', function () {
  this.timeout(30_000);
  const gateway = new FakePaymentGateway({ latencyMs: 0, declineAboveCents: 100_000, failureRate: 0 });
  let service: TestService;
  let token: string;

  before(async () => {
    service = await startTestService({ roles: ['relay', 'projections', 'payments'], overrides: { paymentGateway: gateway } });
    token = tokenFor(service.config, { sub: 'ada', tenant: 'acme', roles: ['customer'] });
  });
  after(() => service.stop());

  const orderRow = async (orderId: string) =>
    (
      await rows<{ status: string; authorization_id: string | null }>(
        service.services,
        'select status, authorization_id from orders where id = ?',
        [orderId],
      )
    )[0];

  it('When a paid order is cancelled and the refund job is delivered twice, then the gateway refunds the paid total once', async () => {
    const productId = await createProduct(service.services, 'acme', { priceCents: 1_250 });
    const placed = await http(`${service.url}/v1/orders`, { token, body: { lines: [{ productId, quantity: 2 }] } });
    const orderId = placed.body.orderId as string;
    await eventually(async () => (await orderRow(orderId))?.status === 'paid', 10_000, 'the order to be paid');
    const { authorization_id: authorizationId } = (await orderRow(orderId))!;
    expect(authorizationId).to.match(/^auth_/);

    const cancelled = await http(`${service.url}/v1/orders/${orderId}/cancel`, { token, body: { reason: 'changed my mind' } });
    expect(cancelled.status).to.equal(202);
    const [logged] = await rows<{ id: string; payload: DomainEvent['payload'] }>(
      service.services,
      "select id, payload from outbox_events where aggregate_id = ? and type = 'OrderCancelled'",
      [orderId],
    );
    expect(logged!.payload).to.deep.include({ refundedCents: 2_500, authorizationId });
    const refund = await eventually(async () => gateway.refundFor(logged!.id), 10_000, 'the refund');
    expect(refund.amountCents).to.equal(2_500);

    // A redelivery (another job for the same event) must not refund again.
    const payments = service.services.queues.get('payments')!;
    const first = await payments.getJob(logged!.id);
    const again = await payments.add(first!.name, first!.data, { jobId: `${logged!.id}-again` });
    await eventually(async () => (await again.isCompleted()) || undefined, 10_000, 'the redelivered job');
    expect(gateway.refundFor(logged!.id)).to.deep.equal(refund);
    expect(gateway.refundsIssued).to.equal(1);
  });

  it('When an unpaid order is cancelled, then nothing is refunded', async () => {
    const productId = await createProduct(service.services, 'acme', { priceCents: 500_000 });
    const placed = await http(`${service.url}/v1/orders`, { token, body: { lines: [{ productId, quantity: 1 }] } });
    const orderId = placed.body.orderId as string;
    await eventually(async () => (await orderRow(orderId))?.status === 'payment_failed', 10_000, 'the decline');
    const issued = gateway.refundsIssued;

    const cancelled = await http(`${service.url}/v1/orders/${orderId}/cancel`, { token, body: {} });

    expect(cancelled.status).to.equal(409);
    expect(gateway.refundsIssued).to.equal(issued);
  });
});
