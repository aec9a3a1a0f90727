import { expect } from 'chai';
import asyncApiDocument from '../../src/api/generated/asyncapi.json' with { type: 'json' };
import { INTEGRATION_EVENTS, INTEGRATION_EVENT_TYPES } from '../../src/events/integration/index.js';
import { createLogger } from '../../src/platform/logger.js';
import { checkEvictionPolicy } from '../../src/platform/redis.js';
import { http } from '../support/http.js';
import { runToEnd } from '../support/processes.js';
import { freePort } from '../support/ports.js';
import { startRedis, stopRedis } from '../support/private-servers.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

describe('Platform edges: limits, documents, headers, boot checks', function () {
  this.timeout(30_000);
  let service: TestService;
  before(async () => {
    service = await startTestService({ env: { RATE_LIMIT_POINTS: '5', RATE_LIMIT_DURATION: '1m', BODY_LIMIT: '2kb' } });
  });
  after(() => service.stop());

  it('When a principal exceeds the rate limit, then it gets 429 problem+json with Retry-After, and other principals are unaffected', async () => {
    const greedy = tokenFor(service.config, { sub: 'greedy', tenant: 'acme', roles: ['customer'] });
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await http(`${service.url}/v1/orders`, { token: greedy }));
    const other = await http(`${service.url}/v1/orders`, {
      token: tokenFor(service.config, { sub: 'calm', tenant: 'acme', roles: ['customer'] }),
    });

    expect(answers.map((answer) => answer.status)).to.deep.equal([200, 200, 200, 200, 200, 429]);
    expect(answers[5]!.body.type).to.equal('/problems/request.rate-limited');
    expect(Number(answers[5]!.headers.get('retry-after'))).to.be.greaterThan(0);
    expect(answers[0]!.headers.get('ratelimit-limit')).to.equal('5');
    expect(other.status).to.equal(200);
  });

  it('When a body is larger than the limit, then it is 413 problem+json', async () => {
    const token = tokenFor(service.config, { sub: 'big', tenant: 'acme', roles: ['customer'] });
    const huge = await http(`${service.url}/v1/orders`, {
      token,
      rawBody: JSON.stringify({ lines: [], padding: 'x'.repeat(5_000) }),
    });
    expect(huge.status).to.equal(413);
    expect(huge.body.type).to.equal('/problems/request.too-large');
  });

  it('When a route does not exist, then it is 404 problem+json; security headers are on every answer', async () => {
    const missing = await http(`${service.url}/v1/nothing-here`, {
      token: tokenFor(service.config, { sub: 'a', tenant: 'acme', roles: ['customer'] }),
    });
    expect(missing.status).to.equal(404);
    expect(missing.body.type).to.equal('/problems/route.not-found');
    expect(missing.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(missing.headers.get('content-security-policy')).to.include("default-src 'self'");
    expect(missing.headers.get('x-powered-by')).to.equal(null);
  });

  it('When the OpenAPI document and Swagger UI are fetched, then every v1 route is described with bearer authentication', async () => {
    const spec = await http(`${service.url}/openapi.json`);
    const docs = await http(`${service.url}/docs/`);

    expect(spec.body.components.securitySchemes.jwt).to.deep.include({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(spec.body.paths)).to.include.members([
      '/v1/orders',
      '/v1/orders/{orderId}',
      '/v1/products',
      '/v1/webhooks',
      '/v1/commands/{commandId}',
    ]);
    expect(spec.body.paths['/v1/orders'].post.security).to.deep.equal([{ jwt: [] }]);
    expect(docs.status).to.equal(200);
    expect(docs.body).to.include('swagger-ui');
  });

  it('When the AsyncAPI document is fetched without a token, then it describes every integration event the webhooks send', async () => {
    const document = await http(`${service.url}/asyncapi.json`);

    expect(document.status).to.equal(200);
    expect(document.headers.get('content-type')).to.match(/^application\/json/);
    expect(document.body).to.deep.equal(asyncApiDocument);
    expect(document.body.asyncapi).to.match(/^3\./);
    expect(Object.keys(document.body.components.messages)).to.have.members(
      INTEGRATION_EVENT_TYPES.map((type) => `${type}.v${INTEGRATION_EVENTS[type].version}`),
    );
  });

  it('When liveness is probed, then it answers without touching dependencies', async () => {
    const live = await http(`${service.url}/health/live`);
    expect(live.status).to.equal(200);
  });

  it('When a process starts with a bad variable, then it exits 1 naming that variable', async () => {
    const result = await runToEnd('src/api/server.ts', [], { PORT: 'eighty', ORDER_PAYMENT_TIMEOUT: 'soon' });
    expect(result.status).to.equal(1);
    expect(result.stderr)
      .to.match(/Invalid configuration/)
      .and.match(/PORT/)
      .and.match(/ORDER_PAYMENT_TIMEOUT/);
  });

  it('When Redis may evict keys, then the boot check refuses it (or only warns, when configured)', async () => {
    const port = await freePort();
    const redis = await startRedis(port);
    try {
      const url = `redis://127.0.0.1:${port}`;
      const { Redis } = await import('ioredis');
      const admin = new Redis(url);
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      admin.disconnect();
      const logger = createLogger({ level: 'error', format: 'json', service: 'test' });

      const refused = await checkEvictionPolicy({ url }, 'refuse', logger).catch((error: Error) => error);
      const warned = await checkEvictionPolicy({ url }, 'warn', logger).catch((error: Error) => error);

      expect(refused).to.be.instanceOf(Error).with.property('message').that.includes('allkeys-lru');
      expect(warned).to.equal(undefined);
    } finally {
      await stopRedis(redis);
    }
  });
});
