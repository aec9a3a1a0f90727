import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { oldestWaitingAgeSeconds } from '../../src/workers/observed-state.js';
import { infrastructure } from '../support/infrastructure.js';

/** The gauge behind the critical CqrsQueueOldestJobWaiting alert, against a real Redis. */
describe('Oldest waiting job gauge (cqrs_queue_oldest_waiting_age_seconds)', () => {
  let queue: Queue;
  let redis: Redis;

  beforeEach(async () => {
    const { redisUrl } = await infrastructure();
    redis = new Redis(redisUrl);
    queue = new Queue('projections', {
      connection: { url: redisUrl },
      prefix: `{test-oldest-${randomBytes(3).toString('hex')}}`,
    });
  });
  afterEach(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    redis.disconnect();
  });

  it('When jobs pile up, then the gauge reports the oldest waiting job, not the newest', async () => {
    // Arrange
    const now = Date.now();
    for (const ageSeconds of [600, 300, 10]) {
      await queue.add('event', { ageSeconds }, { timestamp: now - ageSeconds * 1000 });
    }

    // Act
    const age = await oldestWaitingAgeSeconds(queue, redis, now);

    // Assert
    expect(await queue.getWaitingCount()).to.equal(3);
    expect(age).to.be.closeTo(600, 1);
  });

  it('When the oldest job is taken by a worker, then the gauge moves on to the next oldest', async () => {
    // Arrange
    const now = Date.now();
    for (const ageSeconds of [600, 300, 10]) {
      await queue.add('event', { ageSeconds }, { timestamp: now - ageSeconds * 1000 });
    }
    // A worker takes jobs from the tail of the wait list.
    const taken = await redis.rpop(queue.keys.wait!);

    // Act
    const age = await oldestWaitingAgeSeconds(queue, redis, now);

    // Assert
    expect((await queue.getJob(taken!))?.data).to.deep.equal({ ageSeconds: 600 });
    expect(age).to.be.closeTo(300, 1);
  });

  it('When a delayed job becomes due, then its wait counts from its due time, not from its creation', async () => {
    // Arrange: created a minute ago with a 59 s delay, so due since about a second.
    const now = Date.now();
    await queue.add('expire', {}, { timestamp: now - 60_000, delay: 59_000 });
    await queue.promoteJobs();

    // Act
    const age = await oldestWaitingAgeSeconds(queue, redis, now);

    // Assert
    expect(await queue.getWaitingCount()).to.equal(1);
    expect(age).to.be.below(30);
  });

  it('When nothing waits, then the gauge reads 0', async () => {
    expect(await oldestWaitingAgeSeconds(queue, redis)).to.equal(0);
  });
});
