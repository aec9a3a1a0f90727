import { expect } from 'chai';
import { ConfigError, loadConfig, orderPageCacheBytes, parseDuration, redisTarget } from '../../src/platform/config.js';

/** Production also requires a key for secrets at rest. */
const atRest = { SECRET_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` };

describe('Configuration', () => {
  it('When nothing is set, then local defaults work and the dev HS256 secret is used', () => {
    const config = loadConfig({});
    expect(config.PORT).to.equal(3000);
    expect(config.jwt.algorithms).to.deep.equal(['HS256']);
    expect(config.ORDER_PAYMENT_TIMEOUT).to.equal(15 * 60_000);
  });

  it('When reads go to a replica, then no list pages are kept (a lagging replica could refill a voided page)', () => {
    expect(orderPageCacheBytes(loadConfig({}))).to.equal(4 * 2 ** 20);
    expect(orderPageCacheBytes(loadConfig({ DATABASE_READ_URL: 'postgres://replica:5432/app' }))).to.equal(0);
  });

  it('When variables are malformed, then loading fails naming each of them', () => {
    const attempt = () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'not a url', ORDER_PAYMENT_TIMEOUT: 'soon' });
    expect(attempt).to.throw(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n');
      expect(problems).to.include('PORT').and.include('DATABASE_URL').and.include('ORDER_PAYMENT_TIMEOUT');
    }
  });

  it('When NODE_ENV is production, then an HS256 secret is refused and a key source is required', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) })).to.throw(
      ConfigError,
      /JWT_SECRET: HS256 shared secrets are refused/,
    );
    expect(() => loadConfig({ NODE_ENV: 'production' })).to.throw(ConfigError, /JWT_JWKS_URI: required in production/);
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_JWKS_URI: 'https://idp.example/jwks.json', PAYMENT_GATEWAY: 'fake', ...atRest })
        .jwt.algorithms,
    ).to.deep.equal(['RS256', 'ES256']);
  });

  it('When NODE_ENV is production and no payment adapter is named, then loading fails; naming the fake is accepted', () => {
    const production = { NODE_ENV: 'production', JWT_JWKS_URI: 'https://idp.example/jwks.json', ...atRest };

    expect(() => loadConfig(production)).to.throw(ConfigError, /PAYMENT_GATEWAY: required in production/);
    expect(loadConfig({ ...production, PAYMENT_GATEWAY: 'fake' }).PAYMENT_GATEWAY).to.equal('fake');
    expect(loadConfig({}).PAYMENT_GATEWAY, 'outside production the fake is the default').to.equal(undefined);
  });

  it('When two key sources are set, then loading fails', () => {
    expect(() => loadConfig({ JWT_SECRET: 'y'.repeat(40), JWT_PUBLIC_KEY: 'pem' })).to.throw(ConfigError, /exactly one/);
  });

  it('When idempotency keys would be kept less than 24 h, then loading fails', () => {
    expect(() => loadConfig({ IDEMPOTENCY_RETENTION: '1h' })).to.throw(ConfigError, /IDEMPOTENCY_RETENTION/);
  });

  it('When durations carry units, then they become milliseconds', () => {
    expect([
      parseDuration('250ms'),
      parseDuration('30s'),
      parseDuration('15m'),
      parseDuration('2h'),
      parseDuration('1d'),
      parseDuration('40'),
    ]).to.deep.equal([250, 30_000, 900_000, 7_200_000, 86_400_000, 40]);
  });

  it('When REDIS_CLUSTER_NODES is set, then Redis is a cluster of those seeds with REDIS_URL only for credentials', () => {
    const config = loadConfig({
      REDIS_URL: 'rediss://app:s3cret@ignored:6379',
      REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-1.redis:7001',
    });

    expect(redisTarget(config)).to.deep.equal({
      url: 'rediss://app:s3cret@ignored:6379',
      clusterNodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-1.redis', port: 7001 },
      ],
    });
    expect(redisTarget(loadConfig({})), 'without it: the one server of REDIS_URL').to.deep.equal({
      url: 'redis://127.0.0.1:6379',
    });
  });

  it('When a cluster seed is not host:port, REDIS_URL names a database a cluster lacks, or the prefix has no hash tag, then loading fails', () => {
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1' })).to.throw(ConfigError, /REDIS_CLUSTER_NODES\.0: host:port/);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000', REDIS_URL: 'redis://x:6379/2' })).to.throw(
      ConfigError,
      /REDIS_URL: a Redis Cluster has only database 0/,
    );
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000', QUEUE_PREFIX: 'cqrs' })).to.throw(
      ConfigError,
      /QUEUE_PREFIX: on a Redis Cluster it needs a hash tag/,
    );
    expect(loadConfig({ QUEUE_PREFIX: 'cqrs' }).QUEUE_PREFIX, 'a single server needs none').to.equal('cqrs');
  });
});
