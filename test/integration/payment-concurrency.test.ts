import { expect } from 'chai';
import { FakePaymentGateway } from '../../src/workers/payments/fake-payment-gateway.js';
import type { AuthorizationRequest, PaymentDecision } from '../../src/workers/payments/payment-gateway.js';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { eventually } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';

/** Holds each authorization until `together` are in flight at once (or a deadline passes), and records the most seen. */
class GatewayThatWaitsForCompany extends FakePaymentGateway {
  inFlight = 0;
  mostInFlight = 0;
  private waiting: Array<() => void> = [];

  constructor(private readonly together: number) {
    super({ latencyMs: 0, declineAboveCents: 1_000_000, failureRate: 0 });
  }

  override async authorize(request: AuthorizationRequest): Promise<PaymentDecision> {
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    if (this.inFlight >= this.together) for (const release of this.waiting.splice(0)) release();
    else await new Promise<void>((release) => this.waiting.push(release) && setTimeout(release, 3_000));
    this.inFlight--;
    return super.authorize(request);
  }
}

describe('Payments run at their own concurrency (PostgreSQL + Redis, real relay and payments worker)', function () {
  this.timeout(30_000);
  let service: TestService;
  afterEach(() => service.stop());

  it('When more orders wait for payment than WORKER_CONCURRENCY, then PAYMENT_CONCURRENCY of them are authorized at once', async () => {
    const gateway = new GatewayThatWaitsForCompany(6);
    service = await startTestService({
      api: false,
      roles: ['relay', 'payments'],
      env: { WORKER_CONCURRENCY: '2', PAYMENT_CONCURRENCY: '6' },
      overrides: { paymentGateway: gateway },
    });
    const productId = await createProduct(service.services, 'acme');

    for (let i = 0; i < 6; i++)
      await service.services.commands.placeOrder.handle(principal(`c${i}`, 'acme', ['customer'], { name: `c${i}` }), {
        lines: [{ productId, quantity: 1 }],
      });

    await eventually(
      async () => (await rows(service.services, "select 1 from orders where status = 'paid'")).length === 6 || undefined,
      15_000,
      'every order to be paid',
    );
    expect(gateway.mostInFlight).to.equal(6);
  });
});
