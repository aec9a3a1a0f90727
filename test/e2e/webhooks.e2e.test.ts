import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { rows } from '../support/fixtures.js';
import { eventually, http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';
import { assertWebhookContract } from '../support/webhook-contract.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const ATTEMPTS = 3;

describe('Webhooks end to end (real API, relay and webhooks worker, loopback receivers)', () => {
  let service: TestService;
  const receivers: WebhookReceiver[] = [];
  let tenantCounter = 0;

  before(async () => {
    service = await startTestService({
      roles: ['relay', 'webhooks'],
      env: {
        WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
        WEBHOOK_ATTEMPTS: String(ATTEMPTS),
        WEBHOOK_RETRY_DELAY: '10ms',
        WEBHOOK_TIMEOUT: '2s',
      },
    });
  });
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
  });
  after(() => service.stop());

  const token = (sub: string, tenant: string, roles: string[]) =>
    tokenFor(service.config, { sub, tenant, roles, name: `${sub} name`, email: `${sub}@example.com` });
  const admin = (tenant: string) => token('root', tenant, ['admin']);
  /** Every test has a tenant of its own, so subscriptions never meet. */
  const newTenant = () => `tenant-${++tenantCounter}`;

  async function receiver(status: number) {
    const started = await startWebhookReceiver(status);
    receivers.push(started);
    return started;
  }

  function subscribe(tenant: string, body: unknown, as = admin(tenant)) {
    return http(`${service.url}/v1/webhooks`, { token: as, body });
  }

  async function createProduct(tenant: string) {
    const created = await http(`${service.url}/v1/products`, {
      token: admin(tenant),
      body: {
        sku: `SKU-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
        name: 'Blue mug',
        priceCents: 1250,
        currency: 'EUR',
      },
    });
    expect(created.status).to.equal(202);
    return created.body as { commandId: string; productId: string };
  }

  async function eventsOf(commandId: string) {
    return rows<{ id: string; type: string; occurred_at: Date; payload: unknown }>(
      service.services,
      'select id, type, occurred_at, payload from outbox_events where command_id = ? order by position',
      [commandId],
    );
  }

  async function unpublished(commandId: string) {
    const [row] = await rows<{ n: number }>(
      service.services,
      'select count(*)::int as n from outbox_events where command_id = ? and published_at is null',
      [commandId],
    );
    return row!.n;
  }

  const webhooksQueue = () => service.services.queues.get('webhooks')!;
  const deadLetters = () => service.services.deadLetterQueues.get('webhooks')!;

  async function finishedJob(jobId: string) {
    return eventually(
      async () => {
        // State first, then the job: a job read before it finished would carry no return value.
        const state = await webhooksQueue().getJobState(jobId);
        const job = state === 'completed' || state === 'failed' ? await webhooksQueue().getJob(jobId) : undefined;
        return job ? { job, state } : null;
      },
      5_000,
      `job ${jobId} to finish`,
    );
  }

  const count = async (table: string) =>
    (await rows<{ n: number }>(service.services, `select count(*)::int as n from ${table}`))[0]!.n;

  it('When an admin subscribes a receiver to product.created, then the answer is 202 with the secret, once, the row holds it sealed and WebhookSubscribed is in the outbox', async () => {
    const tenant = newTenant();
    const target = await receiver(204);

    const subscribed = await subscribe(tenant, {
      url: `${target.url}/hooks`,
      eventTypes: ['product.created', 'product.created'],
    });

    expect(subscribed.status).to.equal(202);
    expect(subscribed.headers.get('location')).to.equal(`/v1/commands/${subscribed.body.commandId}`);
    expect(subscribed.headers.get('cache-control')).to.equal('no-store');
    expect(subscribed.body).to.have.all.keys('commandId', 'webhookId', 'secret');
    expect(subscribed.body.secret).to.match(/^whsec_[A-Za-z0-9_-]{43}$/);
    const stored = await rows(
      service.services,
      'select tenant_id, url, event_types, version, secret from webhook_subscriptions where id = ?',
      [subscribed.body.webhookId],
    );
    const { secret: sealed, ...row } = stored[0] as { secret: string };
    expect(row).to.deep.equal({ tenant_id: tenant, url: `${target.url}/hooks`, event_types: ['product.created'], version: 1 });
    expect(sealed)
      .to.match(/^sealed:v1:/)
      .and.not.include(subscribed.body.secret.slice(6));
    expect(service.services.secrets.open(sealed, `webhook-secret:${subscribed.body.webhookId}`)).to.equal(subscribed.body.secret);
    const [command] = await rows(service.services, 'select type, principal_id, aggregate_id from command_log where id = ?', [
      subscribed.body.commandId,
    ]);
    expect(command).to.deep.equal({ type: 'SubscribeWebhook', principal_id: 'root', aggregate_id: subscribed.body.webhookId });
    const events = await rows(
      service.services,
      'select type, tenant_id, aggregate_type, aggregate_id, aggregate_version, payload from outbox_events where command_id = ?',
      [subscribed.body.commandId],
    );
    expect(events).to.deep.equal([
      {
        type: 'WebhookSubscribed',
        tenant_id: tenant,
        aggregate_type: 'Webhook',
        aggregate_id: subscribed.body.webhookId,
        aggregate_version: 1,
        payload: {
          webhook: {
            webhookId: subscribed.body.webhookId,
            url: `${target.url}/hooks`,
            eventTypes: ['product.created'],
            createdAt: (events[0] as { payload: { webhook: { createdAt: string } } }).payload.webhook.createdAt,
          },
        },
      },
    ]);
    expect(JSON.stringify(events)).not.to.include(subscribed.body.secret.slice(6)).and.not.include('sealed:');
  });

  it('When a subscribed event happens, then the receiver gets one signed delivery of its integration event; events of other types deliver nothing', async () => {
    const tenant = newTenant();
    const target = await receiver(204);
    const subscribed = await subscribe(tenant, { url: `${target.url}/hooks`, eventTypes: ['product.created'] });
    const { secret, webhookId } = subscribed.body;

    const product = await createProduct(tenant);
    const placed = await http(`${service.url}/v1/orders`, {
      token: token('ada', tenant, ['customer']),
      body: { lines: [{ productId: product.productId, quantity: 1 }] },
    });
    expect(placed.status).to.equal(202);

    const [created] = await eventsOf(product.commandId);
    const delivery = await finishedJob(`${created!.id}.${webhookId}`);
    const others = await eventsOf(placed.body.commandId);
    expect(others.map((event) => event.type)).to.have.members(['CustomerProfileChanged', 'OrderPlaced']);
    // Nobody subscribes to these: once the relay has published them, the webhooks queue holds no
    // job for them at all (the relay enqueues webhook work only for events with a subscriber).
    await eventually(
      async () => (await unpublished(placed.body.commandId)) === 0 || null,
      5_000,
      "the order's events to be published",
    );
    for (const other of others) expect(await webhooksQueue().getJobState(other.id)).to.equal('unknown');

    expect(delivery.state).to.equal('completed');
    expect(delivery.job.returnvalue).to.deep.equal({ status: 204 });
    expect(target.received).to.have.length(1);
    const [request] = target.received;
    expect(request).to.deep.include({ method: 'POST', path: '/hooks' });
    expect(request!.headers['content-type']).to.equal('application/json');
    expect(request!.headers['webhook-id']).to.equal(created!.id);
    const timestamp = request!.headers['webhook-timestamp'] as string;
    expect(Math.abs(Number(timestamp) - Date.now() / 1000)).to.be.below(60);
    const expected = createHmac('sha256', secret).update(`${timestamp}.${request!.body}`).digest('hex');
    expect(request!.headers['webhook-signature']).to.equal(`v1=${expected}`);
    assertWebhookContract(request!);
    const snapshot = (created!.payload as { product: Record<string, unknown> }).product;
    expect(JSON.parse(request!.body)).to.deep.equal({
      id: created!.id,
      type: 'product.created',
      version: 1,
      occurredAt: new Date(created!.occurred_at).toISOString(),
      tenantId: tenant,
      data: {
        product: {
          id: snapshot.productId,
          sku: snapshot.sku,
          name: 'Blue mug',
          priceCents: 1250,
          currency: 'EUR',
          active: true,
          updatedAt: snapshot.updatedAt,
        },
      },
    });
  });

  it(`When the receiver keeps answering 500, then the delivery is tried ${ATTEMPTS} times and lands in webhooks.dead-letter`, async () => {
    const tenant = newTenant();
    const target = await receiver(500);
    const { webhookId } = (await subscribe(tenant, { url: target.url, eventTypes: ['product.created'] })).body;

    const product = await createProduct(tenant);
    const [created] = await eventsOf(product.commandId);
    const jobId = `${created!.id}.${webhookId}`;
    const deadLetter = await eventually(() => deadLetters().getJob(jobId), 5_000, 'the dead letter');

    expect(deadLetter.data).to.deep.include({ queue: 'webhooks', jobId, name: 'deliver-webhook', attemptsMade: ATTEMPTS });
    expect(deadLetter.data.failedReason).to.equal(`127.0.0.1:${target.port} answered 500`);
    expect(deadLetter.data.data).to.deep.include({ subscriptionId: webhookId });
    expect((await finishedJob(jobId)).state).to.equal('failed');
    expect(target.received).to.have.length(ATTEMPTS);
    expect(new Set(target.received.map((request) => request.headers['webhook-id']))).to.deep.equal(new Set([created!.id]));
  });

  it('When the target is private, loopback, not https or not http(s) at all, then it is 422 webhook.target-refused and nothing is written', async () => {
    const tenant = newTenant();
    const before = { subscriptions: await count('webhook_subscriptions'), commands: await count('command_log') };
    const refusedUrls = [
      'https://10.0.0.7/hook',
      'https://192.168.1.20/hook',
      'https://[::ffff:169.254.169.254]/latest/meta-data',
      'https://[fd00::1]/hook',
      'https://[::1]/hook',
      'https://localhost/hook', // resolves to loopback; only 127.0.0.1 is allow-listed here
      'http://hooks.example.com/hook', // plain http to a host that is not allow-listed
      'ftp://127.0.0.1/hook', // allow-listed host, but not http(s)
      'not a url',
    ];

    const answers = await Promise.all(refusedUrls.map((url) => subscribe(tenant, { url, eventTypes: ['order.paid'] })));

    for (const [index, answer] of answers.entries()) {
      expect(answer.status, refusedUrls[index]).to.equal(422);
      expect(answer.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(answer.body).to.include({ type: '/problems/webhook.target-refused', url: refusedUrls[index] });
    }
    expect({ subscriptions: await count('webhook_subscriptions'), commands: await count('command_log') }).to.deep.equal(before);
  });

  it('When the body has an unknown field, an unknown event type, a domain event type or no event types, then it is 400 and nothing is written', async () => {
    const tenant = newTenant();
    const target = await receiver(204);
    const before = await count('webhook_subscriptions');

    const extraField = await subscribe(tenant, { url: target.url, eventTypes: ['order.paid'], secret: 'mine' });
    const unknownType = await subscribe(tenant, { url: target.url, eventTypes: ['order.teleported'] });
    // Domain events are internal: only integration event types can be subscribed to.
    const domainTypes = await subscribe(tenant, { url: target.url, eventTypes: ['order.paid', 'OrderPaid', 'WebhookDeleted'] });
    const noTypes = await subscribe(tenant, { url: target.url, eventTypes: [] });
    const noUrl = await subscribe(tenant, { eventTypes: ['order.paid'] });

    const answers = [extraField, unknownType, domainTypes, noTypes, noUrl];
    expect(answers.map((answer) => answer.status)).to.deep.equal([400, 400, 400, 400, 400]);
    expect(extraField.body.errors.map((error: { field: string }) => error.field)).to.deep.equal(['body.secret']);
    expect(unknownType.body.errors.map((error: { field: string }) => error.field)).to.deep.equal(['eventTypes[0]']);
    expect(domainTypes.body.errors.map((error: { field: string }) => error.field)).to.deep.equal([
      'eventTypes[1]',
      'eventTypes[2]',
    ]);
    expect(await count('webhook_subscriptions')).to.equal(before);
  });

  it('When customers or staff use the webhook endpoints, then creating and listing are 403, deleting is 404, and nothing changes', async () => {
    const tenant = newTenant();
    const target = await receiver(204);
    const { webhookId } = (await subscribe(tenant, { url: target.url, eventTypes: ['order.paid'] })).body;
    const before = await count('webhook_subscriptions');

    for (const role of ['customer', 'staff']) {
      const caller = token(`a-${role}`, tenant, [role]);
      const created = await subscribe(tenant, { url: target.url, eventTypes: ['order.paid'] }, caller);
      const listed = await http(`${service.url}/v1/webhooks`, { token: caller });
      const deleted = await http(`${service.url}/v1/webhooks/${webhookId}`, { method: 'DELETE', token: caller });

      expect([created.status, listed.status, deleted.status], role).to.deep.equal([403, 403, 404]);
      expect(created.body.type).to.equal('/problems/auth.forbidden');
      expect(deleted.body.type).to.equal('/problems/webhook.not-found');
    }
    expect(await count('webhook_subscriptions')).to.equal(before);
  });

  it("When an admin deletes another tenant's webhook or one that does not exist, then it is 404 and the webhook stays", async () => {
    const [owner, stranger] = [newTenant(), newTenant()];
    const target = await receiver(204);
    const { webhookId } = (await subscribe(owner, { url: target.url, eventTypes: ['order.paid'] })).body;

    const foreign = await http(`${service.url}/v1/webhooks/${webhookId}`, { method: 'DELETE', token: admin(stranger) });
    const missing = await http(`${service.url}/v1/webhooks/0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f`, {
      method: 'DELETE',
      token: admin(owner),
    });

    expect([foreign.status, missing.status]).to.deep.equal([404, 404]);
    expect(foreign.body.type).to.equal('/problems/webhook.not-found');
    expect(await rows(service.services, 'select id, version from webhook_subscriptions where id = ?', [webhookId])).to.deep.equal(
      [{ id: webhookId, version: 1 }],
    );
    expect(
      await rows(service.services, "select 1 from outbox_events where aggregate_id = ? and type = 'WebhookDeleted'", [webhookId]),
    ).to.deep.equal([]);
  });

  it('When an admin deletes their webhook, then it is 202 with a command, the row is gone, WebhookDeleted (version 2) is in the outbox and the command succeeded', async () => {
    const tenant = newTenant();
    const target = await receiver(204);
    const { webhookId } = (await subscribe(tenant, { url: target.url, eventTypes: ['order.paid'] })).body;
    const [subscription] = await rows<{ created_at: string | Date }>(
      service.services,
      'select created_at from webhook_subscriptions where id = ?',
      [webhookId],
    );

    const deleted = await http(`${service.url}/v1/webhooks/${webhookId}`, { method: 'DELETE', token: admin(tenant) });
    const again = await http(`${service.url}/v1/webhooks/${webhookId}`, { method: 'DELETE', token: admin(tenant) });

    expect(deleted.status).to.equal(202);
    expect(deleted.headers.get('location')).to.equal(`/v1/commands/${deleted.body.commandId}`);
    expect(deleted.body).to.deep.equal({ commandId: deleted.body.commandId, webhookId });
    expect(again.status).to.equal(404);
    expect(await rows(service.services, 'select id from webhook_subscriptions where id = ?', [webhookId])).to.deep.equal([]);
    expect(
      await rows(
        service.services,
        'select type, tenant_id, aggregate_type, aggregate_id, aggregate_version, payload from outbox_events where command_id = ?',
        [deleted.body.commandId],
      ),
    ).to.deep.equal([
      {
        type: 'WebhookDeleted',
        tenant_id: tenant,
        aggregate_type: 'Webhook',
        aggregate_id: webhookId,
        aggregate_version: 2,
        payload: {
          webhook: {
            webhookId,
            url: `${target.url}/`,
            eventTypes: ['order.paid'],
            createdAt: new Date(subscription!.created_at).toISOString(),
          },
        },
      },
    ]);
    // The refused second delete left no trace.
    expect(
      await rows(service.services, "select 1 from outbox_events where aggregate_id = ? and type = 'WebhookDeleted'", [webhookId]),
    ).to.have.length(1);
    const command = await http(`${service.url}/v1/commands/${deleted.body.commandId}`, { token: admin(tenant) });
    expect(command.body).to.include({ type: 'DeleteWebhook', status: 'succeeded' });
  });

  it('When a subscription is replayed with its Idempotency-Key, then the client gets the secret again, and the stored reply holds it only sealed', async () => {
    const tenant = newTenant();
    const target = await receiver(204);
    const send = () =>
      http(`${service.url}/v1/webhooks`, {
        token: admin(tenant),
        body: { url: `${target.url}/hooks`, eventTypes: ['order.paid'] },
        headers: { 'idempotency-key': 'lost-the-answer' },
      });

    const first = await send();
    const replay = await send();

    expect(replay.status).to.equal(202);
    expect(replay.body).to.deep.equal(first.body);
    const stored = await rows<{ reply: string }>(
      service.services,
      "select response_body::text as reply from idempotency_keys where key = 'lost-the-answer' and tenant_id = ?",
      [tenant],
    );
    expect(stored).to.have.length(1);
    expect(stored[0]!.reply)
      .to.match(/"sealed": "sealed:v1:/)
      .and.not.include(first.body.secret.slice(6));
  });

  it("When an admin lists webhooks, then they get their tenant's only, newest first, a page at a time, and never a secret", async () => {
    const [tenant, other] = [newTenant(), newTenant()];
    const target = await receiver(204);
    const ids: string[] = [];
    for (const eventType of ['order.paid', 'order.shipped', 'order.cancelled']) {
      ids.push((await subscribe(tenant, { url: `${target.url}/${eventType}`, eventTypes: [eventType] })).body.webhookId);
    }
    await subscribe(other, { url: target.url, eventTypes: ['order.paid'] });

    const first = await http(`${service.url}/v1/webhooks?limit=2`, { token: admin(tenant) });
    const second = await http(`${service.url}/v1/webhooks?limit=2&cursor=${first.body.nextCursor}`, { token: admin(tenant) });

    expect([first.status, second.status]).to.deep.equal([200, 200]);
    const items = [...first.body.items, ...second.body.items];
    expect(items.map((item: { id: string }) => item.id)).to.deep.equal([...ids].reverse());
    expect(second.body.nextCursor).to.equal(null);
    expect(items[0]).to.have.all.keys('id', 'url', 'eventTypes', 'createdAt');
    expect(items[0]).to.include({ url: `${target.url}/order.cancelled` });
    expect(items[0].eventTypes).to.deep.equal(['order.cancelled']);
    expect(JSON.stringify([first.body, second.body])).not.to.include('whsec_');
  });

  it('When the list is asked for a limit outside 1..100 or a forged cursor, then it is 400', async () => {
    const tenant = newTenant();
    const answers = await Promise.all(
      ['limit=0', 'limit=101', 'limit=abc', 'cursor=bm9wZQ'].map((query) =>
        http(`${service.url}/v1/webhooks?${query}`, { token: admin(tenant) }),
      ),
    );
    expect(answers.map((answer) => answer.status)).to.deep.equal([400, 400, 400, 400]);
  });
});
