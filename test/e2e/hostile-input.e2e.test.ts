import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { encodeCursor } from '../../src/queries/shared/keyset.js';
import { MAX_LINE_TOTAL_CENTS, MAX_ORDER_TOTAL_CENTS } from '../../src/commands/orders/order.entity.js';
import { createProduct, rows } from '../support/fixtures.js';
import { http } from '../support/http.js';
import { rawHttp } from '../support/raw-http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { signRaw, tokenFor } from '../support/tokens.js';

/** What a hostile caller sends, and what the service must answer: a clear 4xx and nothing written. */
describe('Hostile input gets a clear 4xx and changes nothing', () => {
  let service: TestService;
  let productId: string;
  let ada: string;
  const writeTables = ['orders', 'customers', 'products', 'outbox_events', 'command_log', 'idempotency_keys'];

  before(async () => {
    service = await startTestService();
    productId = await createProduct(service.services, 'acme', { priceCents: 100_000_000 });
    ada = tokenFor(service.config, { sub: 'ada', tenant: 'acme', roles: ['customer'] });
  });
  after(() => service.stop());

  const counts = async () =>
    Object.fromEntries(
      await Promise.all(
        writeTables.map(async (table) => [
          table,
          (await rows(service.services, `select count(*)::int as n from ${table}`))[0]!.n,
        ]),
      ),
    );
  const claims = (extra: object) => ({
    sub: 'ada',
    tenant: 'acme',
    roles: ['customer'],
    iss: service.config.JWT_ISSUER,
    aud: service.config.JWT_AUDIENCE,
    exp: Math.floor(Date.now() / 1000) + 600,
    ...extra,
  });

  function expectProblem(response: { status: number; headers: Headers | Record<string, unknown> }, status: number, type: string) {
    const contentType =
      response.headers instanceof Headers ? response.headers.get('content-type') : response.headers['content-type'];
    expect(response.status).to.equal(status);
    expect(String(contentType)).to.match(/^application\/problem\+json/);
    const body =
      (response as { body?: { type?: string }; json?: { type?: string } }).body ?? (response as { json?: object }).json;
    expect((body as { type?: string }).type).to.equal(`/problems/${type}`);
  }

  describe('text PostgreSQL cannot store', () => {
    it('When a body string holds a NUL or a lone surrogate, then it is 400 request.unstorable-text and nothing is written', async () => {
      const before = await counts();
      const nul = await http(`${service.url}/v1/customers/me`, {
        method: 'PUT',
        token: ada,
        body: { name: 'Ada\u0000Lovelace', email: 'ada@example.com' },
      });
      const surrogate = await http(`${service.url}/v1/customers/me`, {
        method: 'PUT',
        token: ada,
        rawBody: '{"name":"Ada \\ud800","email":"ada@example.com"}',
      });
      const key = await http(`${service.url}/v1/orders`, { token: ada, rawBody: `{"lines":[],"\\u0000":1}` });

      expectProblem(nul, 400, 'request.unstorable-text');
      expect(nul.body.field).to.equal('Body field name');
      expectProblem(surrogate, 400, 'request.unstorable-text');
      expectProblem(key, 400, 'request.unstorable-text');
      expect(await counts()).to.deep.equal(before);
    });

    it('When a query parameter or the path holds a NUL, then it is 400 before any handler runs', async () => {
      const query = await http(`${service.url}/v1/orders?customerId=a%00b`, { token: ada });
      const path = await http(`${service.url}/v1/customers/a%00b/summary`, { token: ada });

      expectProblem(query, 400, 'request.unstorable-text');
      expectProblem(path, 400, 'request.unstorable-text');
    });

    it('When a signed token carries a NUL or a lone surrogate in a claim, then it is 400 and no profile is created', async () => {
      const before = await counts();
      const inSub = await http(`${service.url}/v1/orders`, {
        token: signRaw(service.config, claims({ sub: 'eve\u0000' })),
        body: { lines: [{ productId, quantity: 1 }] },
      });
      const inName = await http(`${service.url}/v1/orders`, {
        token: signRaw(service.config, claims({ sub: 'eve', name: 'Eve \ud800' })),
        body: { lines: [{ productId, quantity: 1 }] },
      });

      expectProblem(inSub, 400, 'request.unstorable-text');
      expectProblem(inName, 400, 'request.unstorable-text');
      expect(await counts()).to.deep.equal(before);
    });
  });

  describe('malformed requests', () => {
    it('When a query parameter is out of its range or of the wrong type, then each error says what is wrong, not only which field', async () => {
      const admin = tokenFor(service.config, { sub: 'alex', tenant: 'acme', roles: ['admin'] });
      for (const list of ['/v1/orders', '/v1/products', '/v1/webhooks']) {
        for (const limit of ['abc', '1.5', '0', '101']) {
          const response = await http(`${service.url}${list}?limit=${limit}`, { token: admin });
          expectProblem(response, 400, 'request.invalid');
          const errors = (response.body as { errors: { field: string; message: string }[] }).errors;
          expect(
            errors.map((error) => error.field),
            `${list} limit=${limit}`,
          ).to.deep.equal(['limit']);
          // tsoa takes the text after a validation tag as the message: `@isInt limit` alone made it "limit".
          expect(errors[0]!.message, `${list} limit=${limit}`).to.match(/\s/).and.not.include('limit');
        }
      }
    });

    it('When a path segment is not valid percent-encoded UTF-8, then it is 400 request.malformed-path', async () => {
      for (const path of ['/v1/orders/%E0%A4%A', '/v1/orders/%ZZ', '/v1/orders/%ED%A0%80', '/admin/queues/%C0']) {
        const response = await rawHttp(service.url, { path, headers: { authorization: `Bearer ${ada}` } });
        expect(response.status, path).to.equal(400);
        expect(response.json.type, path).to.equal('/problems/request.malformed-path');
      }
    });

    it('When Content-Encoding does not match the body or is unknown, then it is 4xx problem+json and nothing is written', async () => {
      const before = await counts();
      const body = JSON.stringify({ lines: [{ productId, quantity: 1 }] });
      const send = (encoding: string, payload: Buffer | string) =>
        rawHttp(service.url, {
          path: '/v1/orders',
          method: 'POST',
          headers: { authorization: `Bearer ${ada}`, 'content-type': 'application/json', 'content-encoding': encoding },
          body: payload,
        });

      const notGzip = await send('gzip', body);
      const truncated = await send('gzip', gzipSync(body).subarray(0, 20));
      const unknown = await send('zstd-but-not-really', body);

      expect([notGzip.status, truncated.status]).to.deep.equal([400, 400]);
      expect(notGzip.json.type).to.equal('/problems/request.unreadable');
      expect(unknown.status).to.equal(415);
      expect(unknown.json.type).to.equal('/problems/request.unsupported-encoding');
      expect(await counts()).to.deep.equal(before);
    });

    it('When a day does not exist (31 June, year 0), then the report answers 400 naming the field', async () => {
      const alex = tokenFor(service.config, { sub: 'alex', tenant: 'acme', roles: ['admin'] });
      const june = await http(`${service.url}/v1/reports/daily-sales?from=2026-06-01&to=2026-06-31`, { token: alex });
      const yearZero = await http(`${service.url}/v1/reports/daily-sales?from=0000-01-01&to=0000-01-02`, { token: alex });

      expectProblem(june, 400, 'request.invalid');
      expect(june.body.errors).to.deep.equal([{ field: 'to', message: 'is not a day of the calendar' }]);
      expectProblem(yearZero, 400, 'request.invalid');
    });

    it('When a cursor is well-formed base64url of a hostile key, then it is 400 and no query runs with it', async () => {
      const hostile = [
        encodeCursor(['MUG\u0000']),
        encodeCursor(['x'.repeat(5000)]),
        encodeCursor([1e308]),
        encodeCursor(['+275760-09-13T00:00:00.000Z', 'not-a-uuid']),
        encodeCursor(['+275760-09-13T00:00:00.000Z', '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f']),
        encodeCursor(['-000001-01-01T00:00:00.000Z', '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f']),
        encodeCursor(['2026-06-31T00:00:00.000Z', '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f']),
      ];
      for (const cursor of hostile) {
        for (const path of ['/v1/products', '/v1/orders']) {
          const response = await http(`${service.url}${path}?cursor=${cursor}`, { token: ada });
          expect(response.status, `${path} ${cursor}`).to.equal(400);
          expect(response.body.errors).to.deep.equal([{ field: 'cursor', message: 'is not a cursor returned by this endpoint' }]);
        }
      }
    });

    it('When an error answers a URL with a query string, then the problem instance is the path only', async () => {
      const response = await http(`${service.url}/v1/orders?cursor=bad&access_token=s3cr3t-t0ken`, { token: ada });

      expect(response.status).to.equal(400);
      expect(response.body.instance).to.equal('/v1/orders');
      expect(JSON.stringify(response.body)).not.to.include('s3cr3t');
    });
  });

  describe('money limits', () => {
    it('When a line would total more than the maximum, then it is 422 order.line-total-too-large and nothing is written', async () => {
      const before = await counts();
      const quantity = MAX_LINE_TOTAL_CENTS / 100_000_000 + 1;
      const response = await http(`${service.url}/v1/orders`, { token: ada, body: { lines: [{ productId, quantity }] } });

      expectProblem(response, 422, 'order.line-total-too-large');
      expect(response.body.maximumCents).to.equal(MAX_LINE_TOTAL_CENTS);
      expect(await counts()).to.deep.equal(before);
    });

    it('When an order would total more than the maximum, then it is 422 order.total-too-large and nothing is written', async () => {
      const lines = await Promise.all(
        Array.from({ length: MAX_ORDER_TOTAL_CENTS / MAX_LINE_TOTAL_CENTS + 1 }, async () => ({
          productId: await createProduct(service.services, 'acme', { priceCents: 100_000_000 }),
          quantity: MAX_LINE_TOTAL_CENTS / 100_000_000,
        })),
      );
      const before = await counts();
      const response = await http(`${service.url}/v1/orders`, { token: ada, body: { lines } });

      expectProblem(response, 422, 'order.total-too-large');
      expect(await counts()).to.deep.equal(before);
    });

    it('When an order totals more than a 32-bit integer but within the limits, then it is stored exactly', async () => {
      const lines = await Promise.all(
        Array.from({ length: 3 }, async () => ({
          productId: await createProduct(service.services, 'acme', { priceCents: 100_000_000 }),
          quantity: 10,
        })),
      );
      const response = await http(`${service.url}/v1/orders`, { token: ada, body: { lines } });

      expect(response.status).to.equal(202);
      const [order] = await rows<{ total_cents: string }>(service.services, 'select total_cents from orders where id = ?', [
        response.body.orderId,
      ]);
      expect(Number(order!.total_cents)).to.equal(3_000_000_000);
    });
  });

  describe('tokens', () => {
    it('When the issuer or audience is wrong, then the 401 says so without naming the expected values', async () => {
      const wrongIss = await http(`${service.url}/v1/orders`, { token: signRaw(service.config, claims({ iss: 'evil' })) });
      const wrongAud = await http(`${service.url}/v1/orders`, { token: signRaw(service.config, claims({ aud: 'evil' })) });

      expectProblem(wrongIss, 401, 'auth.unauthenticated');
      expectProblem(wrongAud, 401, 'auth.unauthenticated');
      for (const answer of [JSON.stringify(wrongIss.body), JSON.stringify(wrongAud.body)]) {
        expect(answer).not.to.include(service.config.JWT_ISSUER);
        expect(answer).not.to.include(service.config.JWT_AUDIENCE);
      }
      expect(wrongIss.body.detail).to.equal('The bearer token is not valid: its issuer is not accepted');
    });

    it('When name or email claims break the profile rules, then the first-sight profile ignores them', async () => {
      const token = signRaw(service.config, claims({ sub: 'mallory', name: 'M'.repeat(5000), email: 'not an email' }));
      const response = await http(`${service.url}/v1/orders`, { token, body: { lines: [{ productId, quantity: 1 }] } });

      expect(response.status).to.equal(202);
      const [customer] = await rows(service.services, "select name, email from customers where id = 'mallory'");
      expect(customer).to.deep.equal({ name: 'mallory', email: '' });
    });
  });

  describe('idempotency keys', () => {
    it('When a key has expired but is not purged yet, then it counts as absent: another request with it is accepted', async () => {
      const send = (quantity: number) =>
        http(`${service.url}/v1/orders`, {
          token: ada,
          body: { lines: [{ productId, quantity }] },
          headers: { 'idempotency-key': 'k-expired' },
        });
      const first = await send(1);
      await rows(
        service.services,
        "update idempotency_keys set expires_at = now() - interval '1 second' where key = 'k-expired'",
      );
      const again = await send(2);

      expect(first.status).to.equal(202);
      expect(again.status).to.equal(202);
      expect(again.body.orderId).not.to.equal(first.body.orderId);
      expect(await rows(service.services, "select 1 from idempotency_keys where key = 'k-expired'")).to.have.length(1);
    });
  });
});
