import { expect } from 'chai';
import type { DomainEvent } from '../../src/events/index.js';
import { toIntegrationEvent } from '../../src/events/integration/index.js';
import { newId } from '../../src/platform/ids.js';
import { principal, rows } from '../support/fixtures.js';
import { eventually } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

function productCreated(tenantId: string, occurredAt = new Date()): DomainEvent {
  const productId = newId();
  return {
    id: newId(),
    position: '1',
    type: 'ProductCreated',
    schemaVersion: 1,
    tenantId,
    aggregateType: 'Product',
    aggregateId: productId,
    aggregateVersion: 1,
    commandId: null,
    occurredAt: occurredAt.toISOString(),
    payload: {
      product: {
        productId,
        sku: 'MUG',
        name: 'Mug',
        priceCents: 500,
        currency: 'EUR',
        active: true,
        updatedAt: occurredAt.toISOString(),
      },
    },
    traceContext: null,
  };
}

describe('Webhook delivery worker (PostgreSQL, Redis, loopback receiver)', () => {
  let service: TestService;
  let receiver: WebhookReceiver;
  let tenant: string;
  let tenants = 0;
  const admin = () => principal('root', tenant, ['admin']);

  before(async () => {
    service = await startTestService({
      api: false,
      roles: ['webhooks'],
      env: { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_ATTEMPTS: '3', WEBHOOK_RETRY_DELAY: '10ms', WEBHOOK_TIMEOUT: '2s' },
    });
  });
  beforeEach(async () => {
    tenant = `tenant-${++tenants}`; // each test's subscriptions are its own
    receiver = await startWebhookReceiver(204);
  });
  afterEach(() => receiver.close());
  after(() => service.stop());

  const queue = () => service.services.queues.get('webhooks')!;
  const deadLetters = () => service.services.deadLetterQueues.get('webhooks')!;
  const subscribe = (url = receiver.url) =>
    service.services.commands.subscribeWebhook.handle(admin(), { url, eventTypes: ['product.created'] });

  async function completed(jobId: string) {
    return eventually(
      // State first, then the job: a job read before it completed would carry no return value.
      async () => ((await queue().getJobState(jobId)) === 'completed' ? queue().getJob(jobId) : null),
      5_000,
      `job ${jobId} to complete`,
    );
  }

  it('When the same event reaches the webhooks queue twice, then the receiver gets it once', async () => {
    const { aggregateId: webhookId } = await subscribe();
    const event = productCreated(tenant);

    await queue().add(event.type, event, { jobId: event.id });
    await completed(`${event.id}.${webhookId}`);
    // A redelivery of the event, as after a relay crash once the first job had been removed.
    await queue().add(event.type, event, { jobId: `${event.id}-redelivered` });
    const again = await completed(`${event.id}-redelivered`);

    expect(again.returnvalue).to.deep.equal({ deliveries: 1 });
    expect(receiver.received).to.have.length(1);
    const deliveries = (await queue().getJobs(['completed', 'waiting', 'active', 'delayed', 'failed'])).filter(
      (job) => job.name === 'deliver-webhook' && job.data.payload.id === event.id,
    );
    expect(deliveries.map((job) => job.id)).to.deep.equal([`${event.id}.${webhookId}`]);
  });

  it('When the subscription was deleted before its delivery ran, then the delivery is dead-lettered at once, without a request', async () => {
    const { aggregateId: webhookId } = await subscribe();
    await service.services.commands.deleteWebhook.handle(admin(), { webhookId });
    const event = productCreated(tenant);
    const jobId = `${event.id}.${webhookId}`;

    await queue().add('deliver-webhook', { subscriptionId: webhookId, payload: toIntegrationEvent(event) }, { jobId });
    const deadLetter = await eventually(() => deadLetters().getJob(jobId), 5_000, 'the dead letter');

    expect(deadLetter.data).to.deep.include({
      attemptsMade: 1,
      failedReason: `webhook subscription ${webhookId} no longer exists`,
    });
    expect(receiver.received).to.deep.equal([]);
  });

  it('When the target is refused at delivery time (it now resolves to loopback), then the delivery is dead-lettered at once, without a request', async () => {
    const { aggregateId: webhookId } = await subscribe();
    // As if DNS now pointed the subscribed host at loopback: localhost is not allow-listed, 127.0.0.1 is.
    await rows(service.services, 'update webhook_subscriptions set url = ? where id = ?', [
      `https://localhost:${receiver.port}/hooks`,
      webhookId,
    ]);
    const event = productCreated(tenant);

    await queue().add(event.type, event, { jobId: event.id });
    const deadLetter = await eventually(() => deadLetters().getJob(`${event.id}.${webhookId}`), 5_000, 'the dead letter');

    expect(deadLetter.data.attemptsMade).to.equal(1);
    expect(deadLetter.data.failedReason).to.match(/resolves to a loopback address$/);
    expect(receiver.received).to.deep.equal([]);
  });

  it('When an event occurred before the subscription was made, then it is not delivered to it', async () => {
    const event = productCreated(tenant, new Date(Date.now() - 60_000));
    await subscribe();

    await queue().add(event.type, event, { jobId: event.id });

    expect((await completed(event.id)).returnvalue).to.deep.equal({ deliveries: 0 });
    expect(receiver.received).to.deep.equal([]);
  });

  it('When a delivery job carries a domain event instead of an integration event (queued before the upgrade), then it is dead-lettered at once, without a request', async () => {
    const { aggregateId: webhookId } = await subscribe();
    const event = productCreated(tenant);
    const jobId = `${event.id}.${webhookId}`;
    const rawDomainPayload = {
      id: event.id,
      type: event.type,
      occurredAt: event.occurredAt,
      tenantId: tenant,
      data: event.payload,
    };

    await queue().add('deliver-webhook', { subscriptionId: webhookId, payload: rawDomainPayload }, { jobId });
    const deadLetter = await eventually(() => deadLetters().getJob(jobId), 5_000, 'the dead letter');

    expect(deadLetter.data).to.deep.include({ attemptsMade: 1, failedReason: 'not an integration event: ProductCreated' });
    expect(receiver.received).to.deep.equal([]);
  });

  it('When a domain event that is not published reaches the webhooks queue, then it fans out to nothing', async () => {
    await subscribe();
    const event = { ...productCreated(tenant), type: 'WebhookSubscribed' } as unknown as DomainEvent;

    await queue().add(event.type, event, { jobId: event.id });

    expect((await completed(event.id)).returnvalue).to.deep.equal({ deliveries: 0 });
    expect(receiver.received).to.deep.equal([]);
  });

  it('When a delivery job carries no subscription, then it is dead-lettered at once', async () => {
    await queue().add('deliver-webhook', { payload: 'garbage' }, { jobId: 'malformed-delivery' });

    const deadLetter = await eventually(() => deadLetters().getJob('malformed-delivery'), 5_000, 'the dead letter');

    expect(deadLetter.data).to.deep.include({
      attemptsMade: 1,
      failedReason: 'not a webhook delivery (needs subscriptionId and payload)',
    });
  });
});
