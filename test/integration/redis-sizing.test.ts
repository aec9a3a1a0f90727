import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/platform/config.js';
import { redisMemory } from '../../src/workers/observed-state.js';
import { JOB_RETENTION, jobOptionsFor } from '../../src/workers/queues.js';
import { eventually } from '../support/http.js';
import { freePort } from '../support/ports.js';
import { sampleEvent } from '../support/queue-jobs.js';
import { startRedis, stopRedis } from '../support/private-servers.js';
import { BYTES_PER_JOB, redisMaxmemoryBytes } from '../support/redis-sizing.js';

/**
 * A Redis sized by the documented formula (docs/deploy.md, "Redis memory") holds what a run of
 * the service's queues leaves behind: three times the retention of completed jobs pass through
 * the projections queue (with the real job options), and a set of delayed order expiries waits.
 * With unbounded retention the completed jobs alone outgrow it and Redis refuses writes (noeviction).
 */
const RETAINED = JOB_RETENTION.completed.count;
const JOBS = 3 * RETAINED;
const DELAYED = 2_000;

describe('Redis sized by the documented formula', function () {
  this.timeout(120_000);
  let server: ChildProcess;
  let redis: Redis;
  let maxmemory: number;
  const queues: Queue[] = [];

  before(async () => {
    const port = await freePort();
    maxmemory = redisMaxmemoryBytes({ retainedCompleted: [RETAINED], retainedFailed: [0], delayed: DELAYED, backlog: 0 });
    server = await startRedis(port, ['--maxmemory', String(maxmemory)]);
    redis = new Redis({ port, host: '127.0.0.1' });
  });
  after(async () => {
    await Promise.all(queues.map((queue) => queue.close()));
    redis?.disconnect();
    if (server) await stopRedis(server);
  });

  it('When a measured run passes three times the retention through a queue and expiries wait, then every write fits and memory stays under maxmemory', async () => {
    // Arrange
    const config = loadConfig({ NODE_ENV: 'test' });
    const connection = { host: '127.0.0.1', port: redis.options.port! };
    const open = (name: 'projections' | 'order-expiry') => {
      const queue = new Queue(name, { connection, prefix: '{sizing}', defaultJobOptions: jobOptionsFor(name, config) });
      queues.push(queue);
      return queue;
    };
    const projections = open('projections');
    const expiries = open('order-expiry');
    let completed = 0;
    const worker = new Worker('projections', async () => ({ applied: true }), {
      connection,
      prefix: '{sizing}',
      concurrency: 50,
    });
    worker.on('completed', () => (completed += 1));
    const before = (await redisMemory(redis)).used;

    // Act: the jobs of a run, in the relay's batches; then the expiries of the orders still unpaid.
    try {
      for (let start = 0; start < JOBS; start += 500) {
        const batch = Array.from({ length: Math.min(500, JOBS - start) }, (_, index) => `event-${start + index}`);
        await projections.addBulk(batch.map((id) => ({ name: 'OrderPlaced', data: sampleEvent(id), opts: { jobId: id } })));
      }
      await eventually(async () => completed >= JOBS, 90_000, 'every job of the run to complete');
    } finally {
      await worker.close();
    }
    const afterCompleted = (await redisMemory(redis)).used;
    for (let start = 0; start < DELAYED; start += 500) {
      const batch = Array.from({ length: Math.min(500, DELAYED - start) }, (_, index) => `expiry-${start + index}`);
      await expiries.addBulk(
        batch.map((id) => ({ name: 'OrderPlaced', data: sampleEvent(id), opts: { jobId: id, delay: 15 * 60_000 } })),
      );
    }
    const memory = await redisMemory(redis);

    // Assert
    expect(await projections.getCompletedCount(), 'retention is bounded by count').to.equal(RETAINED);
    expect(await expiries.getDelayedCount()).to.equal(DELAYED);
    expect(memory.max).to.equal(maxmemory);
    expect(memory.used).to.be.below(maxmemory);
    const perCompleted = (afterCompleted - before) / RETAINED;
    const perDelayed = (memory.used - afterCompleted) / DELAYED;
    if (process.env.SIZING_REPORT) {
      console.log({
        maxmemory,
        used: memory.used,
        before,
        perCompleted: Math.round(perCompleted),
        perDelayed: Math.round(perDelayed),
      });
    }
    expect(perCompleted, 'measured bytes per retained completed job').to.be.below(BYTES_PER_JOB.completed);
    expect(perDelayed, 'measured bytes per delayed job').to.be.below(BYTES_PER_JOB.pending);
  });
});
