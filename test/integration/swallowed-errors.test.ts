import { expect } from 'chai';
import { Metrics } from '../../src/platform/metrics.js';
import { purgeExpiredKeys } from '../../src/workers/worker-process.js';
import { startTestService } from '../support/test-service.js';

/** Errors something depends on are logged and counted, never swallowed. */
describe('Failures that alerts must see', function () {
  this.timeout(30_000);
  const valueOf = async (metrics: Metrics, name: string, labels: Record<string, string>) => {
    const metric = await metrics.registry.getSingleMetric(name)!.get();
    return metric.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  };

  it('When a scrape-time gauge cannot be collected, then it keeps its last values and the failure is counted', async () => {
    const metrics = new Metrics({ service: 'test', process: 'test' });
    let depth: number | Error = 7;
    metrics.gaugeAtScrape('test_queue_depth', 'a depth', ['queue'], async (gauge) => {
      if (depth instanceof Error) throw depth;
      gauge.set({ queue: 'q' }, depth);
    });
    expect(await valueOf(metrics, 'test_queue_depth', { queue: 'q' })).to.equal(7);

    depth = new Error('redis is down');

    expect(await valueOf(metrics, 'test_queue_depth', { queue: 'q' }), 'not dropped to 0').to.equal(7);
    expect(await valueOf(metrics, 'cqrs_metric_collection_failures_total', { metric: 'test_queue_depth' })).to.equal(1);
  });

  it('When the idempotency purge fails (its table is gone), then it is logged and counted', async () => {
    const service = await startTestService({ api: false });
    try {
      const logged: string[] = [];
      const logger = { info: () => undefined, error: (message: string) => logged.push(message) };
      await service.services.orm.em.fork().execute('alter table idempotency_keys rename to idempotency_keys_gone');

      await purgeExpiredKeys({ ...service.services, logger: logger as never });

      expect(await valueOf(service.services.metrics, 'cqrs_housekeeping_failures_total', { task: 'idempotency-purge' })).to.equal(
        1,
      );
      expect(logged).to.deep.equal(['could not purge expired idempotency keys']);
    } finally {
      await service.stop();
    }
  });
});
