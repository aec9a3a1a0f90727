import { expect } from 'chai';
import { FakePaymentGateway } from '../../src/workers/payments/fake-payment-gateway.js';

describe('The fake payment gateway', () => {
  const refund = (gateway: FakePaymentGateway, key: string) =>
    gateway.refund({
      authorizationId: 'auth_1',
      orderId: 'o1',
      tenantId: 't',
      amountCents: 100,
      currency: 'EUR',
      idempotencyKey: key,
    });

  it('When the same refund is asked twice, then it refunds once and answers the same refund', async () => {
    const gateway = new FakePaymentGateway({ latencyMs: 0, declineAboveCents: 1_000, failureRate: 0 });

    const first = await refund(gateway, 'k1');
    const second = await refund(gateway, 'k1');

    expect(second).to.deep.equal(first);
    expect(gateway.refundsIssued).to.equal(1);
  });

  it('When it is used for a long time, then what it remembers stays bounded', async () => {
    const gateway = new FakePaymentGateway({ latencyMs: 0, declineAboveCents: 1_000, failureRate: 0, memory: 3 });

    for (let i = 0; i < 10; i++) {
      await refund(gateway, `k${i}`);
      await gateway.void(`auth_${i}`);
    }

    expect(gateway.remembered).to.equal(6);
    expect(gateway.refundFor('k9')).to.not.equal(undefined);
    expect(gateway.refundFor('k0')).to.equal(undefined);
    expect(gateway.wasVoided('auth_9')).to.equal(true);
  });
});
