import { expect } from 'chai';
import { JOB_RETENTION, QUEUE_NAMES } from '../../src/workers/queues.js';
import { redisMaxmemoryBytes } from '../support/redis-sizing.js';
import { containers, find, get } from './support/k8s.js';
import { render } from './support/render.js';
import { readRepoFile } from './support/repo.js';

/**
 * The Redis of the manifests holds the load docs/deploy.md sizes it for ("Redis memory"); the
 * formula itself is checked against a real Redis in test/integration/redis-sizing.test.ts.
 */
export const DOCUMENTED_LOAD = {
  ordersPerSecond: 150,
  paymentTimeoutSeconds: 15 * 60,
  backlog: 100_000,
};

/** Redis' units: "mb" is 1024 * 1024 bytes, "m" is 1,000,000. */
const REDIS_UNITS: Record<string, number> = { '': 1, k: 1e3, kb: 2 ** 10, m: 1e6, mb: 2 ** 20, g: 1e9, gb: 2 ** 30 };
const QUANTITY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, K: 1e3, M: 1e6, G: 1e9, '': 1 };

export function redisSizingProblems(redisConf: string, memoryLimit: string): string[] {
  const problems: string[] = [];
  const [, amount, unit] = /^\s*maxmemory\s+(\d+)([a-z]*)\s*$/im.exec(redisConf) ?? [];
  const maxmemory = Number(amount) * (REDIS_UNITS[unit ?? ''] ?? NaN);
  const needed = redisMaxmemoryBytes({
    retainedCompleted: QUEUE_NAMES.map(() => JOB_RETENTION.completed.count),
    retainedFailed: QUEUE_NAMES.map(() => JOB_RETENTION.failed.count),
    delayed: DOCUMENTED_LOAD.ordersPerSecond * DOCUMENTED_LOAD.paymentTimeoutSeconds,
    backlog: DOCUMENTED_LOAD.backlog,
  });
  if (!(maxmemory >= needed))
    problems.push(`maxmemory ${amount}${unit} is below the ${Math.ceil(needed / 2 ** 20)} MiB the formula needs`);
  const [, limitAmount, limitUnit] = /^(\d+)([A-Za-z]*)$/.exec(memoryLimit) ?? [];
  const limit = Number(limitAmount) * (QUANTITY[limitUnit ?? ''] ?? NaN);
  if (!(limit >= 2 * maxmemory))
    problems.push(`memory limit ${memoryLimit} leaves no room for the AOF rewrite (needs 2 x maxmemory)`);
  return problems;
}

describe('Redis sizing (docs/deploy.md, "Redis memory")', () => {
  const redisLimit = () =>
    String(
      get(
        containers([find(render('k8s/overlays/prod'), 'StatefulSet', 'cqrs-redis')])[0]!.container,
        'resources',
        'limits',
        'memory',
      ),
    );

  it('When the production Redis is read, then maxmemory holds the documented load and the limit leaves room for the AOF rewrite', () => {
    expect(redisSizingProblems(readRepoFile('k8s/base/platform/redis/redis.conf'), redisLimit())).to.deep.equal([]);
  });

  it('When Redis keeps the old 512 MB, or its limit is too tight for a rewrite, then each gap is reported', () => {
    expect(redisSizingProblems('maxmemory 512mb\n', '1Gi')).to.deep.equal([
      'maxmemory 512mb is below the 803 MiB the formula needs',
    ]);
    expect(redisSizingProblems('maxmemory 832mb\n', '1Gi')).to.deep.equal([
      'memory limit 1Gi leaves no room for the AOF rewrite (needs 2 x maxmemory)',
    ]);
  });
});
