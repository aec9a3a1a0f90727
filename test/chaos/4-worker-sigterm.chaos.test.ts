import { expect } from 'chai';
import { Redis } from 'ioredis';
import { eventually } from '../support/http.js';
import { CommandLoad, openScenario, seconds, settle, type Scenario, expectNothingLostOrDoubled } from './harness.js';
import { report } from './report.js';

describe('Chaos 4: a worker gets SIGTERM with jobs in flight', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  let redis: Redis;
  before(async () => {
    // Each payment takes 1.5 s: many are in flight at any moment; the grace period is 5 s.
    scenario = await openScenario('worker-sigterm', { PAYMENT_LATENCY: '1500ms', SHUTDOWN_TIMEOUT_MS: '5000' });
    redis = new Redis(scenario.env.REDIS_URL!);
  });
  after(async () => {
    redis?.disconnect();
    await scenario?.close();
  });

  const key = (id: string) => `${scenario.env.QUEUE_PREFIX}:payments:${id}`;

  it('When a worker is told to stop mid-job, then it finishes (or releases) every running job and exits 0 within its grace period', async () => {
    await scenario.start('worker', { WORKER_ROLES: 'relay,projections' });
    const payer = await scenario.start('worker', { WORKER_ROLES: 'payments' });
    const load = new CommandLoad(scenario, { target: () => scenario.api.url });
    const inFlight = await eventually(
      async () => {
        const ids = await redis.lrange(`${scenario.env.QUEUE_PREFIX}:payments:active`, 0, -1);
        return ids.length >= 3 && ids;
      },
      60_000,
      'payments in flight',
    );

    const signalled = Date.now();
    await payer.kill('SIGTERM');
    const exitedAfter = Date.now() - signalled;
    const { code } = await payer.exited;
    const states = await Promise.all(
      inFlight.map(async (id) => {
        const [finishedOn, lock] = await Promise.all([redis.hget(key(id), 'finishedOn'), redis.exists(`${key(id)}:lock`)]);
        return finishedOn ? 'finished' : lock ? 'held' : 'released';
      }),
    );
    const finished = states.filter((state) => state === 'finished').length;

    await scenario.start('worker', { WORKER_ROLES: 'payments' });
    await eventually(async () => load.accepted.length >= 30, 60_000, 'more load');
    await load.stop();
    const outcome = await settle(scenario, load);
    report({
      scenario: '4 Worker SIGTERMed with jobs in flight',
      ...outcome,
      recovery: seconds(exitedAfter),
      notes: `${inFlight.length} payments in flight at SIGTERM: ${finished} finished before exit, ${inFlight.length - finished} released; exit code ${code} after ${seconds(exitedAfter)} (grace 5 s)`,
    });
    expect(code).to.equal(0);
    expect(exitedAfter).to.be.below(5_000 + 1_000);
    expect(states, 'no job left locked by a dead process').to.not.include('held');
    expectNothingLostOrDoubled(outcome);
  });
});
