import { expect } from 'chai';
import { Redis } from 'ioredis';
import { encodeCursor } from '../../src/queries/shared/keyset.js';
import { http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { signRaw, tokenFor } from '../support/tokens.js';

/** Floods that cost the service something: limited per client address before authentication, and caches that stay bounded. */
describe('Abuse limits: floods before authentication, and what one caller can make the cache hold', () => {
  let service: TestService;
  let redis: Redis;

  before(async () => {
    service = await startTestService({
      env: { RATE_LIMIT_ADDRESS_POINTS: '5', RATE_LIMIT_POINTS: '1000', TRUST_PROXY_HOPS: '1' },
    });
    redis = new Redis(service.config.REDIS_URL);
  });
  after(async () => {
    redis.disconnect();
    await service.stop();
  });

  const from = (address: string) => ({ 'x-forwarded-for': address });

  it('When one address floods /v1 with unsigned or badly signed tokens, then it gets the same 429 problem and headers as the per-principal limit, before any signature check', async () => {
    const forged = signRaw({ ...service.config, jwt: { ...service.config.jwt, secret: 'x'.repeat(40) } }, { sub: 'eve' });
    const answers = [];
    for (let attempt = 0; attempt < 7; attempt++) {
      answers.push(
        await http(`${service.url}/v1/orders`, { token: attempt % 2 ? forged : 'garbage', headers: from('203.0.113.7') }),
      );
    }
    const elsewhere = await http(`${service.url}/v1/orders`, { token: 'garbage', headers: from('203.0.113.8') });

    expect(answers.map((answer) => answer.status)).to.deep.equal([401, 401, 401, 401, 401, 429, 429]);
    const limited = answers.at(-1)!;
    expect(limited.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(limited.body.type).to.equal('/problems/request.rate-limited');
    expect(limited.headers.get('ratelimit-limit')).to.equal('5');
    expect(limited.headers.get('ratelimit-remaining')).to.equal('0');
    expect(Number(limited.headers.get('retry-after'))).to.be.greaterThan(0);
    expect(elsewhere.status, 'another address is not affected').to.equal(401);
  });

  it('When one address floods the dashboard sign-in, then it is limited the same way', async () => {
    const statuses = [];
    for (let attempt = 0; attempt < 7; attempt++) {
      const response = await http(`${service.url}/admin/sign-in`, {
        method: 'POST',
        rawBody: 'token=not-a-jwt',
        headers: { ...from('203.0.113.9'), 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      });
      statuses.push(response.status);
    }
    expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429, 429]);
  });

  it('When one address floods the public documentation, then it is limited the same way, while probes and scrapes from that address are never limited', async () => {
    const address = from('203.0.113.10');
    const docs = [];
    for (const path of ['/openapi.json', '/docs/', '/openapi.json', '/docs/', '/openapi.json', '/openapi.json', '/docs/']) {
      docs.push(await http(`${service.url}${path}`, { headers: address }));
    }
    const platform = [];
    for (let round = 0; round < 4; round++) {
      for (const path of ['/health/live', '/health/ready', '/metrics']) {
        platform.push((await http(`${service.url}${path}`, { headers: address })).status);
      }
    }

    expect(docs.map((answer) => answer.status)).to.deep.equal([200, 200, 200, 200, 200, 429, 429]);
    expect(docs.at(-1)!.body.type).to.equal('/problems/request.rate-limited');
    expect(docs.at(-1)!.headers.get('ratelimit-limit')).to.equal('5');
    expect(platform, 'probes and scrapes beyond the limit').to.deep.equal(Array(12).fill(200));
  });

  it('When a customer pages the catalogue with many forged cursors, then the cache holds a bounded number of pages and no raw cursor text', async () => {
    const token = tokenFor(service.config, { sub: 'mallory', tenant: 'acme', roles: ['customer'] });
    const marker = 'FORGED-CURSOR-MARKER';
    const statuses = new Set<number>();
    for (let index = 0; index < 70; index++) {
      const cursor = encodeCursor([`${marker}-${index}`]);
      statuses.add(
        (await http(`${service.url}/v1/products?cursor=${cursor}`, { token, headers: from(`198.51.100.${index}`) })).status,
      );
    }
    const keys = await redis.keys(`${service.config.QUEUE_PREFIX}:catalog:*`);
    const pages = keys.filter((key) => !key.endsWith(':generation') && !key.includes(':quota:'));

    expect([...statuses]).to.deep.equal([200]);
    expect(pages.length).to.be.at.most(50);
    expect(keys.join(' ')).not.to.include(marker);
    expect(keys.join(' ')).not.to.include(encodeCursor([`${marker}-1`]));
  });
});
