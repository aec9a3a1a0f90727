import { expect } from 'chai';
import { startConsumer } from '../../src/workers/consumer.js';
import { deadLetterQueueOf, STALLS_PER_ATTEMPT } from '../../src/workers/queues.js';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { eventually } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';

describe('Dead letters (real workers)', () => {
  let service: TestService;
  beforeEach(async () => {
    service = await startTestService({ api: false, roles: ['relay', 'projections'], env: { PROJECTION_ATTEMPTS: '2' } });
  });
  afterEach(() => service.stop());

  it('When a job carries a payload that can never be processed, then it goes to the dead-letter queue after one attempt', async () => {
    const projections = service.services.queues.get('projections')!;
    await projections.add('Garbage', { hello: 'world' }, { jobId: 'garbage-1' });

    const deadLetters = service.services.deadLetterQueues.get('projections')!;
    const [dead] = await eventually(
      async () => {
        const jobs = await deadLetters.getJobs(['waiting']);
        return jobs.length ? jobs : undefined;
      },
      5_000,
      'the dead letter',
    );

    expect(deadLetters.name).to.equal(deadLetterQueueOf('projections'));
    expect(dead!.data).to.include({ queue: 'projections', jobId: 'garbage-1', name: 'Garbage', attemptsMade: 1 });
    expect(dead!.data.failedReason).to.match(/not a known event envelope/);
    expect(dead!.data.data).to.deep.equal({ hello: 'world' });
    // The dead letter is written before BullMQ records the failure (a crash in between retries the job).
    const failedJob = await eventually(
      async () => ((await projections.getJob('garbage-1'))?.finishedOn ? projections.getJob('garbage-1') : undefined),
      5_000,
      'the job to be marked failed',
    );
    expect(await failedJob!.getState()).to.equal('failed');
    expect(failedJob!.attemptsMade).to.equal(1);
    // The attempt is counted and timed as failed, under its queue.
    const sampled = async (name: string, labels: Record<string, string>) => {
      const metric = await service.services.metrics.registry.getSingleMetric(name.replace(/_count$/, ''))!.get();
      return metric.values.find(
        (value) =>
          ((value as { metricName?: string }).metricName ?? metric.name) === name &&
          Object.entries(labels).every(([key, label]) => value.labels[key] === label),
      )?.value;
    };
    expect(await sampled('cqrs_jobs_failed_total', { queue: 'projections' })).to.equal(1);
    expect(await sampled('cqrs_job_duration_seconds_count', { queue: 'projections', outcome: 'failed' })).to.equal(1);
    expect((await sampled('cqrs_jobs_completed_total', { queue: 'projections' })) ?? 0).to.equal(0);
  });

  it('When a projection keeps failing, then after its attempts the job is dead-lettered and its command reads failed', async () => {
    // order_view refuses every row: the projection of OrderPlaced can never succeed.
    await rows(service.services, 'alter table order_view add constraint refuse_all check (total_cents < 0)');
    const productId = await createProduct(service.services, 'acme');
    const accepted = await service.services.commands.placeOrder.handle(principal('ada', 'acme', ['customer']), {
      lines: [{ productId, quantity: 1 }],
    });

    const status = await eventually(
      async () => {
        const command = await service.services.queries.getCommandStatus.handle(
          principal('ada', 'acme', ['customer']),
          accepted.commandId,
        );
        return command.status === 'failed' ? command : undefined;
      },
      10_000,
      'the command to be marked failed',
    );

    expect(status.error).to.include({ type: '/problems/command.processing-failed' });
    const deadLetters = await service.services.deadLetterQueues.get('projections')!.getJobs(['waiting']);
    expect(deadLetters.map((job) => job.data.name)).to.include('OrderPlaced');
    expect(deadLetters.find((job) => job.data.name === 'OrderPlaced')!.data.attemptsMade).to.equal(2);
  });

  /** A job whose workers already died under it `stalls` times (or that BullMQ itself marked to fail). */
  async function jobThatStalled(jobId: string, fields: Record<string, string | number>) {
    const projections = service.services.queues.get('projections')!;
    const job = await projections.add('Garbage', { hello: 'world' }, { jobId, delay: 600_000 });
    await service.services.redis.hset(`${service.config.QUEUE_PREFIX}:projections:${jobId}`, fields);
    await job.promote();
  }

  const deadLetterOf = (jobId: string) =>
    eventually(
      async () => (await service.services.deadLetterQueues.get('projections')!.getJob(jobId)) ?? undefined,
      10_000,
      `the dead letter of ${jobId}`,
    );

  it('When a job stalled more often than one attempt allows, then that attempt fails and the job is retried like any failure', async () => {
    await jobThatStalled('stalled-once-too-often', { stc: STALLS_PER_ATTEMPT + 1 });

    const dead = await deadLetterOf('stalled-once-too-often');

    // Attempt 1 failed on the stall budget and was retried; attempt 2 ran the handler, which
    // refused the payload: the stall did not bypass retries, nor end the job by itself.
    expect(dead.data).to.include({ jobId: 'stalled-once-too-often', attemptsMade: 2 });
    expect(dead.data.failedReason).to.match(/not a known event envelope/);
  });

  it('When a job keeps stalling past its last attempt, then it is dead-lettered naming the stalls', async () => {
    await jobThatStalled('stalls-forever', { stc: STALLS_PER_ATTEMPT * 2 + 1 });

    const dead = await deadLetterOf('stalls-forever');

    expect(dead.data).to.include({ jobId: 'stalls-forever', attemptsMade: 2 });
    expect(dead.data.failedReason).to.match(/stalled 7 times/);
  });

  it('When BullMQ fails a job through its own stall limit (the processor never runs), then the job is still dead-lettered', async () => {
    await jobThatStalled('failed-by-bullmq', { stc: 99, defa: 'job stalled more than allowable limit' });

    const dead = await deadLetterOf('failed-by-bullmq');

    expect(dead.data.failedReason).to.equal('job stalled more than allowable limit');
    const failed = await service.services.queues.get('projections')!.getJob('failed-by-bullmq');
    expect(failed!.failedReason).to.equal('job stalled more than allowable limit');
  });

  it('When a job finds PostgreSQL unavailable, then it waits for it without using an attempt (an outage longer than the backoff dead-letters nothing)', async function () {
    this.timeout(30_000);
    const { config, services } = service;
    let calls = 0;
    const unavailable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const consumer = startConsumer(
      'webhooks',
      async () => {
        calls += 1;
        if (calls <= 3) throw unavailable();
        return 'done';
      },
      services.deadLetterQueues.get('webhooks')!,
      {
        connections: services.queueConnections,
        prefix: config.QUEUE_PREFIX,
        concurrency: 1,
        lockDurationMs: 30_000,
        maxStalledCount: 10,
        metrics: services.metrics,
        observer: services.observer,
        connectionWarnings: services.connectionWarnings,
      },
      services.logger,
    );
    try {
      // Two attempts only: three outages in a row would dead-letter it if they used attempts.
      const job = await services.queues.get('webhooks')!.add('Outage', { hello: 'world' }, { jobId: 'outage-1', attempts: 2 });

      await eventually(async () => (await job.isCompleted()) || undefined, 20_000, 'the job to complete after the outage');

      expect(calls).to.equal(4);
      expect((await services.queues.get('webhooks')!.getJob('outage-1'))!.returnvalue).to.equal('done');
      expect(await services.deadLetterQueues.get('webhooks')!.getJob('outage-1')).to.equal(undefined);
    } finally {
      await consumer.close();
    }
  });
});
