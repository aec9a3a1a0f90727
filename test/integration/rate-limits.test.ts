import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { Redis } from 'ioredis';
import { authenticate, type TokenVerifier } from '../../src/api/authentication.js';
import { errorHandler } from '../../src/api/error-handler.js';
import { RateLimits } from '../../src/api/rate-limit.js';
import { UnauthenticatedError } from '../../src/platform/errors.js';
import { createLogger } from '../../src/platform/logger.js';
import { openRedis } from '../../src/platform/redis.js';
import { uniqueId } from '../support/database.js';
import { deleteKeys } from '../support/database.js';
import { infrastructure } from '../support/infrastructure.js';

/**
 * The /v1 limits as app.ts wires them (`RateLimits#around`), on a real Redis, with a verifier that counts signature
 * checks: the address and the principal in one round trip after authentication, a failed
 * authentication counted against the address, and an address over its limit refused from memory
 * before its signature is checked.
 */
describe('Rate limits: one round trip per request, floods refused before the signature check', () => {
  let redisUrl: string;
  const clients: Redis[] = [];
  const servers: Server[] = [];
  const prefixes: string[] = [];

  before(async () => {
    redisUrl = (await infrastructure()).redisUrl;
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await new Promise((done) => server.close(done));
    for (const client of clients.splice(0)) client.disconnect();
    for (const prefix of prefixes.splice(0)) await deleteKeys(redisUrl, prefix);
  });

  /** One API replica's /v1 chain; `checks` counts signature checks. */
  async function replica(prefix: string, redis: Redis, points = { address: 5, principal: 1000 }) {
    clients.push(redis);
    const limits = new RateLimits(
      redis,
      { address: { points: points.address, durationMs: 60_000 }, principal: { points: points.principal, durationMs: 60_000 } },
      prefix,
    );
    const counter = { checks: 0 };
    const verify: TokenVerifier = (token) => {
      counter.checks++;
      if (token.startsWith('good-')) return Promise.resolve({ id: token.slice(5), tenantId: 't', roles: ['customer'] });
      return Promise.reject(
        new UnauthenticatedError('The bearer token is not valid: its signature or algorithm is not accepted'),
      );
    };
    const app = express();
    app.set('trust proxy', 1);
    app.use('/v1', ...limits.around(authenticate(verify)));
    app.get('/v1/ping', (_request, response) => void response.json({ ok: true }));
    app.use(errorHandler(createLogger({ level: 'error', format: 'json', service: 'test' })));
    const server = app.listen(0);
    servers.push(server);
    await new Promise((done) => server.once('listening', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/ping`;
    const call = async (token: string, address: string) => {
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': address } });
      await response.arrayBuffer();
      return response;
    };
    return { counter, call };
  }

  const newPrefix = () => {
    const prefix = `{test-rl-${uniqueId()}}`;
    prefixes.push(prefix);
    return prefix;
  };

  it('When one address floods /v1 with badly signed tokens, then past its limit no signature is checked', async () => {
    const { counter, call } = await replica(newPrefix(), new Redis(redisUrl));
    const statuses = [];
    for (let attempt = 0; attempt < 20; attempt++) statuses.push((await call('forged', '203.0.113.20')).status);

    expect(statuses).to.deep.equal([...Array(5).fill(401), ...Array(15).fill(429)]);
    // Five within the limit, and the sixth, whose count showed the address over it.
    expect(counter.checks).to.equal(6);
    expect((await call('forged', '203.0.113.21')).status, 'another address is not affected').to.equal(401);
  });

  it('When a second replica meets an address that flooded the first, then it checks one more signature and refuses the rest', async () => {
    const prefix = newPrefix();
    const first = await replica(prefix, new Redis(redisUrl));
    const second = await replica(prefix, new Redis(redisUrl));
    for (let attempt = 0; attempt < 7; attempt++) await first.call('forged', '203.0.113.30');

    const statuses = [];
    for (let attempt = 0; attempt < 5; attempt++) statuses.push((await second.call('forged', '203.0.113.30')).status);

    expect(statuses).to.deep.equal([429, 429, 429, 429, 429]);
    expect(second.counter.checks).to.equal(1);
  });

  it('When a caller is authenticated, then its address and its principal are counted in one Redis round trip, and each limit holds', async () => {
    const prefix = newPrefix();
    // The client the API makes for itself (auto-pipelining), with its socket writes counted.
    const redis = openRedis({ url: redisUrl }, 'producer', { shared: true }) as Redis;
    await new Promise((ready) => redis.once('ready', ready));
    const sent: string[] = [];
    const sendCommand = redis.sendCommand.bind(redis);
    // (The pipeline passes its own stream as the second argument: keep it, or each command is written alone.)
    redis.sendCommand = (command, stream) => (sent.push(command.name), sendCommand(command, stream));
    let writes = 0;
    const stream = (redis as unknown as { stream: { write: (...chunk: unknown[]) => boolean } }).stream;
    const write = stream.write.bind(stream);
    stream.write = (...chunk: unknown[]) => (writes++, write(...chunk));
    const { call } = await replica(prefix, redis, { address: 100, principal: 3 });

    const answers = [];
    const writesPerRequest = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const before = writes;
      answers.push(await call('good-ada', '203.0.113.40'));
      writesPerRequest.push(writes - before);
    }
    const other = await call('good-bob', '203.0.113.40');

    expect(answers.map((answer) => answer.status)).to.deep.equal([200, 200, 200, 429]);
    expect(answers[0]!.headers.get('ratelimit-limit'), "the principal's headers").to.equal('3');
    expect(answers[2]!.headers.get('ratelimit-remaining')).to.equal('0');
    expect(Number(answers[3]!.headers.get('retry-after'))).to.be.greaterThan(0);
    expect(other.status, 'another principal from the same address is not affected').to.equal(200);
    expect(sent, 'the address and the principal, each counted once per request').to.have.length(10);
    expect(writesPerRequest, 'both counts in one write per request').to.deep.equal([1, 1, 1, 1]);
    const probe = new Redis(redisUrl);
    clients.push(probe);
    expect(await probe.get(`${prefix}:rate-limit:ip:203.0.113.40`)).to.equal('5');
    expect(await probe.get(`${prefix}:rate-limit:principal:t:ada`)).to.equal('4');
    expect(await probe.pttl(`${prefix}:rate-limit:principal:t:ada`)).to.be.within(1, 60_000);
  });

  it('When Redis cannot be reached, then requests are still answered and the limits hold in memory', async () => {
    const down = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on('error', () => undefined);
    const { call } = await replica(newPrefix(), down, { address: 100, principal: 2 });

    const statuses = [];
    for (let attempt = 0; attempt < 3; attempt++) statuses.push((await call('good-ada', '203.0.113.50')).status);

    expect(statuses).to.deep.equal([200, 200, 429]);
  });
});
