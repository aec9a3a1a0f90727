import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { IdempotencyClaimLostError, IdempotencyInFlightError } from '../../src/commands/shared/idempotency.js';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';

/**
 * An idempotency claim belongs to the request that made it. A retry may take over a claim whose
 * request can no longer finish, and then the first request can neither complete nor release it.
 */
describe('Idempotency claims have owners (PostgreSQL)', () => {
  let service: TestService;
  let productId: string;
  before(async () => {
    service = await startTestService({ api: false });
    productId = await createProduct(service.services, 'acme');
  });
  after(() => service.stop());

  const ada = principal('ada', 'acme', ['customer']);
  const place = (key: string, options: object = {}) =>
    service.services.commands.placeOrder.handle(
      ada,
      { lines: [{ productId, quantity: 1 }] },
      { idempotency: { key, requestHash: 'same-request' }, ...options },
    );
  const ordersOfAda = async () =>
    (
      await rows<{ n: number }>(
        service.services,
        "select count(*)::int as n from orders where tenant_id = 'acme' and customer_id = 'ada'",
      )
    )[0]!.n;
  const keyRow = async (key: string) =>
    (
      await rows<{ status: string; claim_id: string | null }>(
        service.services,
        "select status, claim_id from idempotency_keys where tenant_id = 'acme' and principal_id = 'ada' and key = ?",
        [key],
      )
    )[0];
  const claimAs = (key: string, claimId: string, claimedUnder: string) =>
    rows(
      service.services,
      `insert into idempotency_keys (tenant_id, principal_id, key, request_hash, status, claim_id, claimed_under, created_at, expires_at)
       values ('acme', 'ada', ?, 'same-request', 'in_flight', ?, ${claimedUnder}, now(), now() + interval '1 day')`,
      [key, claimId],
    );

  it('When a key is in flight under the running server, then a retry is told to wait (409 in-flight)', async () => {
    const key = `live-${randomUUID()}`;
    await claimAs(key, randomUUID(), 'pg_postmaster_start_time()');
    const retry = await place(key).catch((error: unknown) => error);
    expect(retry).to.be.instanceOf(IdempotencyInFlightError);
  });

  it('When a key was claimed before PostgreSQL last started, then a retry takes it over at once and applies once', async () => {
    const key = `orphaned-${randomUUID()}`;
    // The state a crash leaves: the claim committed, the command transaction died with the server.
    await claimAs(key, randomUUID(), "pg_postmaster_start_time() - interval '1 minute'");
    const before = await ordersOfAda();

    const accepted = await place(key);
    const replay = await place(key);

    expect(replay.commandId).to.equal(accepted.commandId);
    expect(await ordersOfAda()).to.equal(before + 1);
    expect((await keyRow(key))?.status).to.equal('completed');
  });

  it('When a retry takes the key over while the first request runs, then the first rolls back and leaves the retry its claim', async () => {
    const key = `taken-over-${randomUUID()}`;
    const retryClaim = randomUUID();
    const before = await ordersOfAda();

    const first = await place(key, {
      // Just before the first request completes its key, a retry takes the key over (as it would
      // after the lease ran out): the first's claim is gone and the retry's is in its place.
      beforeCommit: async () => {
        await rows(
          service.services,
          "delete from idempotency_keys where tenant_id = 'acme' and principal_id = 'ada' and key = ?",
          [key],
        );
        await claimAs(key, retryClaim, 'pg_postmaster_start_time()');
      },
    }).catch((error: unknown) => error);

    expect(first).to.be.instanceOf(IdempotencyClaimLostError);
    expect(await ordersOfAda()).to.equal(before);
    expect(await keyRow(key)).to.deep.equal({ status: 'in_flight', claim_id: retryClaim });
  });
});
