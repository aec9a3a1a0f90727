import { expect } from 'chai';
import { rows } from '../support/fixtures.js';
import { eventually, http } from '../support/http.js';
import { runEntry, type RunningProcess } from '../support/processes.js';
import { integrationEventViolations } from '../support/webhook-contract.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

// README's local webhook path: the service with WEBHOOK_ALLOWED_HOSTS=127.0.0.1, and `npm run webhook:receiver`.
describe('npm run webhook:receiver (the README local webhook path)', function () {
  this.timeout(60_000);
  let service: TestService;
  let receiver: RunningProcess | undefined;
  const output = () => receiver?.lines.join('\n') ?? '';

  before(async () => {
    service = await startTestService({ roles: ['relay', 'webhooks'], env: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } });
  });
  after(async () => {
    await receiver?.stop('SIGKILL');
    await service.stop();
  });

  it('When the receiver runs beside the service and an order is placed, then it prints the delivery with a verified signature, and Ctrl-C deletes its subscription', async () => {
    // Arrange: the script's dev token is signed with the same (default) dev secret as the service's.
    const args = ['--api', service.url, '--tenant', 'hooks', '--events', 'order.placed'];
    receiver = runEntry('scripts/webhook-receiver.ts', args, {});
    await receiver.waitFor(/^listening on/, 30_000);
    const [subscription] = await rows<{ id: string; url: string }>(
      service.services,
      "select id, url from webhook_subscriptions where tenant_id = 'hooks'",
    );
    expect(subscription!.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/webhooks$/);

    // Act
    const product = await service.services.commands.createProduct.handle(
      { id: 'root', tenantId: 'hooks', roles: ['admin'] },
      { sku: 'HOOK-1', name: 'Hook', priceCents: 100, currency: 'EUR' },
    );
    const customer = tokenFor(service.config, {
      sub: 'ada',
      tenant: 'hooks',
      roles: ['customer'],
      name: 'Ada',
      email: 'a@example.com',
    });
    const placed = await http(`${service.url}/v1/orders`, {
      token: customer,
      body: { lines: [{ productId: product.aggregateId, quantity: 1 }] },
    });

    // Assert
    // The delivery's body follows its "signature ok" and "contract ok" lines.
    await eventually(async () => output().includes(placed.body.orderId), 20_000, 'the delivery of the order');
    expect(output()).to.include('signature ok').and.not.include('SIGNATURE INVALID');
    expect(output()).to.include('contract ok').and.not.include('CONTRACT VIOLATION');
    expect(
      printedDeliveries(receiver.lines).map((delivery) => [delivery.type, integrationEventViolations(delivery)]),
    ).to.deep.include(['order.placed', []]);
    await receiver.stop('SIGINT');
    expect(output()).to.match(/subscription deleted \(202\)/);
    await eventually(
      async () => (await rows(service.services, "select 1 from webhook_subscriptions where tenant_id = 'hooks'")).length === 0,
      10_000,
      'the subscription to be gone',
    );
  });
});

/** The JSON bodies the script printed, each after its "contract ok" line (pretty-printed, ending in a "}" line). */
function printedDeliveries(lines: string[]): { type: string }[] {
  return lines.flatMap((line, index) => {
    if (line !== 'contract ok') return [];
    const end = lines.indexOf('}', index + 1);
    return [JSON.parse(lines.slice(index + 1, end + 1).join('\n')) as { type: string }];
  });
}
