import { expect } from 'chai';
import { createProduct, rows } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

describe('Idempotency-Key on commands', () => {
  let service: TestService;
  let productId: string;
  let ada: string;

  before(async () => {
    service = await startTestService();
    productId = await createProduct(service.services, 'acme', { priceCents: 500 });
    ada = tokenFor(service.config, { sub: 'ada', tenant: 'acme', roles: ['customer'] });
  });
  after(() => service.stop());

  const place = (key: string, quantity = 1, token = ada) =>
    http(`${service.url}/v1/orders`, { token, body: { lines: [{ productId, quantity }] }, headers: { 'idempotency-key': key } });
  const ordersOf = async (customer: string) =>
    (await rows(service.services, 'select id from orders where customer_id = ?', [customer])).length;

  it('When the same request is sent twice with one key, then the second replays the first answer and nothing new is written', async () => {
    const first = await place('k-replay');
    const second = await place('k-replay');

    expect(first.status).to.equal(202);
    expect(second.status).to.equal(202);
    expect(second.body).to.deep.equal(first.body);
    expect(second.headers.get('location')).to.equal(first.headers.get('location'));
    expect(await rows(service.services, 'select 1 from orders where id = ?', [first.body.orderId])).to.have.length(1);
    expect(
      await rows(service.services, "select 1 from command_log where type = 'PlaceOrder' and id = ?", [first.body.commandId]),
    ).to.have.length(1);
  });

  it('When a key is reused with a different body, then it is 422 and nothing is written', async () => {
    await place('k-mismatch', 1);
    const before = await ordersOf('ada');
    const reused = await place('k-mismatch', 2);

    expect(reused.status).to.equal(422);
    expect(reused.body.type).to.equal('/problems/idempotency.key-reused');
    expect(await ordersOf('ada')).to.equal(before);
  });

  it('When two principals use the same key, then each gets their own command (keys are scoped to tenant and principal)', async () => {
    const bob = tokenFor(service.config, { sub: 'bob', tenant: 'acme', roles: ['customer'] });
    const mine = await place('k-shared');
    const theirs = await place('k-shared', 1, bob);
    expect(theirs.status).to.equal(202);
    expect(theirs.body.orderId).not.to.equal(mine.body.orderId);
  });

  it('When a command fails, then its key is released and a corrected retry with the key succeeds', async () => {
    const missing = '01a21686-0000-7000-8000-000000000000';
    const failed = await http(`${service.url}/v1/orders`, {
      token: ada,
      body: { lines: [{ productId: missing, quantity: 1 }] },
      headers: { 'idempotency-key': 'k-fail' },
    });
    const retried = await http(`${service.url}/v1/orders`, {
      token: ada,
      body: { lines: [{ productId: missing, quantity: 1 }] },
      headers: { 'idempotency-key': 'k-fail' },
    });
    expect([failed.status, retried.status]).to.deep.equal([422, 422]);
    expect(await rows(service.services, "select 1 from idempotency_keys where key = 'k-fail'")).to.have.length(0);
  });

  it('When 20 identical requests arrive at once, then exactly one command and one order exist, and every 2xx names it', async () => {
    const carol = tokenFor(service.config, { sub: 'carol', tenant: 'acme', roles: ['customer'] });
    const answers = await Promise.all(Array.from({ length: 20 }, () => place('k-storm', 3, carol)));

    const accepted = answers.filter((answer) => answer.status === 202);
    const inFlight = answers.filter((answer) => answer.status === 409);
    expect(accepted.length + inFlight.length).to.equal(20);
    expect(accepted.length).to.be.greaterThan(0);
    expect(new Set(accepted.map((answer) => answer.body.orderId)).size).to.equal(1);
    expect(inFlight.every((answer) => answer.body.type === '/problems/idempotency.in-flight')).to.equal(true);
    expect(await ordersOf('carol')).to.equal(1);
    expect(
      await rows(
        service.services,
        "select 1 from outbox_events where type = 'OrderPlaced' and payload->'order'->>'customerId' = 'carol'",
      ),
    ).to.have.length(1);
    expect(
      await rows(service.services, "select 1 from command_log where principal_id = 'carol' and type = 'PlaceOrder'"),
    ).to.have.length(1);
  });

  it('When the key is malformed, then it is 400', async () => {
    const bad = await place('x'.repeat(300));
    expect(bad.status).to.equal(400);
  });

  it('When keys pass their retention, then housekeeping purges them and the key can be used afresh', async () => {
    await place('k-old');
    await rows(service.services, "update idempotency_keys set expires_at = now() - interval '1 second' where key = 'k-old'");

    expect(await service.services.idempotencyKeys.purgeExpired()).to.be.greaterThan(0);
    expect(await rows(service.services, "select 1 from idempotency_keys where key = 'k-old'")).to.have.length(0);
    const reused = await place('k-old', 2);
    expect(reused.status).to.equal(202);
  });
});
