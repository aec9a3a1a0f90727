import { expect } from 'chai';
import { PrivateRedis } from '../support/private-servers.js';
import { openScenario, ServiceProcess, type Scenario } from './harness.js';
import { report } from './report.js';

describe('Chaos 6: Redis with an evicting maxmemory-policy', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  let evicting: PrivateRedis;
  before(async () => {
    scenario = await openScenario('evicting-redis');
    evicting = await PrivateRedis.start({ maxmemoryPolicy: 'allkeys-lru' });
  });
  after(async () => {
    await scenario?.close();
    await evicting?.destroy();
  });

  async function exitOf(kind: 'api' | 'worker', extra: Record<string, string> = {}) {
    const started = ServiceProcess.spawn(kind, { ...scenario.env, REDIS_URL: evicting.url, ...extra }, 0);
    const exit = await Promise.race([started.exited, started.ready().then(() => 'ready' as const)]);
    await started.kill('SIGTERM');
    return { exit, output: started.lines.join('\n') };
  }

  it('When Redis may evict keys, then the API and the worker refuse to start, naming the policy; with the check set to warn they start and warn', async () => {
    const [api, worker] = await Promise.all([exitOf('api'), exitOf('worker')]);
    const [apiWarned, workerWarned] = await Promise.all([
      exitOf('api', { REDIS_EVICTION_POLICY_CHECK: 'warn' }),
      exitOf('worker', { REDIS_EVICTION_POLICY_CHECK: 'warn' }),
    ]);
    const refused = (result: typeof api) => result.exit !== 'ready' && result.exit.code !== 0;
    report({
      scenario: '6 Redis with maxmemory-policy allkeys-lru',
      sent: 0,
      accepted: 0,
      lost: 0,
      duplicatedReadModels: 0,
      duplicatedPayments: 0,
      recovery: 'n/a',
      notes: `refuse (default): API ${refused(api) ? 'refused to start' : 'STARTED'}, worker ${refused(worker) ? 'refused to start' : 'STARTED'}; warn: API ${apiWarned.exit === 'ready' ? 'started' : 'did not start'}, worker ${workerWarned.exit === 'ready' ? 'started' : 'did not start'}, both logging the policy`,
    });
    for (const result of [api, worker]) {
      expect(refused(result), result.output).to.equal(true);
      expect(result.output).to.contain('allkeys-lru').and.contain('noeviction');
    }
    for (const result of [apiWarned, workerWarned]) {
      expect(result.exit, result.output).to.equal('ready');
      expect(result.output).to.contain('allkeys-lru');
    }
  });
});
