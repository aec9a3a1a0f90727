import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { rows } from '../support/fixtures.js';
import { eventually, http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

// README's local webhook path: the service with WEBHOOK_ALLOWED_HOSTS=127.0.0.1, and `npm run webhook:receiver`.
describe('npm run webhook:receiver (the README local webhook path)', function () {
  this.timeout(60_000);
  let service: TestService;
  let receiver: ChildProcess | undefined;
  const output: string[] = [];

  before(async () => {
    service = await startTestService({ roles: ['relay', 'webhooks'], env: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } });
  });
  after(async () => {
    if (receiver && receiver.exitCode === null) {
      const exited = once(receiver, 'exit');
      receiver.kill('SIGKILL');
      await exited;
    }
    await service.stop();
  });

  it('When the receiver runs beside the service and an order is placed, then it prints the delivery with a verified signature, and Ctrl-C deletes its subscription', async () => {
    // Arrange: the script's dev token is signed with the same (default) dev secret as the service's.
    const args = ['scripts/webhook-receiver.ts', '--api', service.url, '--tenant', 'hooks', '--events', 'OrderPlaced'];
    receiver = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: receiver.stdout! }).on('line', (line) => output.push(line));
    await eventually(async () => output.some((line) => line.startsWith('listening on')), 30_000, 'the receiver to subscribe');
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
    // The delivery's body follows its "signature ok" line.
    await eventually(async () => output.join('\n').includes(placed.body.orderId), 20_000, 'the delivery of the order');
    expect(output.join('\n')).to.include('signature ok').and.not.include('SIGNATURE INVALID');
    receiver.kill('SIGINT');
    await once(receiver, 'exit');
    expect(output.join('\n')).to.match(/subscription deleted \(202\)/);
    await eventually(
      async () => (await rows(service.services, "select 1 from webhook_subscriptions where tenant_id = 'hooks'")).length === 0,
      10_000,
      'the subscription to be gone',
    );
  });
});
