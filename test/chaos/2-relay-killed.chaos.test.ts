import { expect } from 'chai';
import { Redis } from 'ioredis';
import pg from 'pg';
import { QUEUE_NAMES } from '../../src/workers/queues.js';
import { eventually } from '../support/http.js';
import {
  CommandLoad,
  LONG,
  openScenario,
  seconds,
  settle,
  type Scenario,
  type ServiceProcess,
  expectNothingLostOrDoubled,
} from './harness.js';
import { report } from './report.js';

/**
 * The relay is held exactly between "jobs enqueued" and "rows marked published": a trigger makes
 * the marking UPDATE wait on an advisory lock the test holds, so the kill lands in that window
 * every round, not by luck.
 */
const HOLD = 4213;
const TRIGGER = `
  create function chaos_hold_publish() returns trigger language plpgsql as $$
  begin
    if old.published_at is null and new.published_at is not null then perform pg_advisory_xact_lock_shared(${HOLD}); end if;
    return new;
  end $$;
  create trigger chaos_hold_publish before update on outbox_events for each row execute function chaos_hold_publish();`;

describe('Chaos 2: the relay killed between enqueueing and marking rows published, repeatedly', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  let holder: pg.Client;
  let redis: Redis;
  before(async () => {
    scenario = await openScenario('relay-killed');
    holder = new pg.Client({ connectionString: scenario.env.DATABASE_URL });
    await holder.connect();
    redis = new Redis(scenario.env.REDIS_URL!);
  });
  after(async () => {
    redis?.disconnect();
    await holder?.end();
    await scenario?.close();
  });

  /** Jobs already in Redis for events the outbox still calls unpublished: each will be enqueued again. */
  async function enqueuedButUnpublished(): Promise<number> {
    const { rows } = await scenario.db.query<{ id: string }>('select id from outbox_events where published_at is null');
    let found = 0;
    for (const row of rows) {
      for (const queue of QUEUE_NAMES) found += await redis.exists(`${scenario.env.QUEUE_PREFIX}:${queue}:${row.id}`);
    }
    return found;
  }

  it('When the relay dies after enqueueing and before marking, then the repeat publishes are absorbed: 0 duplicated effects, 0 lost', async () => {
    await scenario.start('worker', { WORKER_ROLES: 'projections,payments' });
    await holder.query(TRIGGER);
    await holder.query('select pg_advisory_lock($1)', [HOLD]);
    const load = new CommandLoad(scenario, { target: () => scenario.api.url });
    const rounds = LONG ? 10 : 3;
    let repeats = 0;
    let relay: ServiceProcess | undefined;
    for (let round = 0; round < rounds; round++) {
      relay = await scenario.start('worker', { WORKER_ROLES: 'relay' });
      await eventually(
        async () => {
          const { rows } = await holder.query(
            "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and wait_event = 'advisory' and datname = current_database()",
          );
          return rows[0].n > 0;
        },
        30_000,
        'the relay to be held between enqueue and mark',
      );
      const inWindow = await enqueuedButUnpublished();
      expect(inWindow, 'jobs were enqueued for rows not yet marked').to.be.greaterThan(0);
      repeats += inWindow;
      await relay.kill('SIGKILL');
      // The orphaned backend gets the lock, finds its client gone, and rolls back; then we hold again.
      await holder.query('select pg_advisory_unlock($1)', [HOLD]);
      await holder.query('select pg_advisory_lock($1)', [HOLD]);
    }
    await holder.query('drop trigger chaos_hold_publish on outbox_events');
    await holder.query('select pg_advisory_unlock($1)', [HOLD]);
    const lastKill = Date.now();
    await scenario.start('worker', { WORKER_ROLES: 'relay' });
    await eventually(async () => load.accepted.length >= 50, 60_000, 'some load after the last kill');
    await load.stop();

    const outcome = await settle(scenario, load);
    report({
      scenario: '2 Relay SIGKILLed between enqueue and marking published',
      ...outcome,
      recovery: seconds(Date.now() - lastKill),
      notes: `${rounds} kills in the window; ${repeats} jobs enqueued twice (deduplicated by job id; handlers idempotent)`,
    });
    expect(repeats).to.be.greaterThan(0);
    expectNothingLostOrDoubled(outcome);
  });
});
