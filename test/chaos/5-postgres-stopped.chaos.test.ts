import { expect } from 'chai';
import { eventually } from '../support/http.js';
import { chaosStage, CommandLoad, openScenario, seconds, settle, type Scenario, expectNothingLostOrDoubled } from './harness.js';
import { report } from './report.js';

/**
 * Transactions in flight when the server dies lose their connections; Kysely (under MikroORM 7)
 * used to keep such connections checked out for good (kysely-org/kysely#1990), and the worker never
 * recovered. src/platform/db/dead-connections.ts hands them back to the pool.
 */
describe('Chaos 5: PostgreSQL stopped immediately during a burst of commands, then started', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  before(async () => {
    scenario = await openScenario('postgres-stopped');
  });
  after(() => scenario?.close());

  it('When PostgreSQL crashes mid-burst, then every 2xx command exists afterwards, retries with the Idempotency-Key apply once, and no process needs a restart', async () => {
    const { postgres } = await chaosStage();
    const worker = await scenario.start('worker');
    const processes = [scenario.api, worker];
    // Clients retry a command that got no answer or a 5xx, with the same Idempotency-Key.
    const load = new CommandLoad(scenario, { target: () => scenario.api.url, clients: 4, pauseMs: 10, retry: true });
    await eventually(async () => load.accepted.length >= 30, 60_000, 'burst under way');

    await postgres.stopServer('immediate');
    try {
      await eventually(
        async () => load.sent.some((command) => command.statuses.some((status) => status !== 202)),
        30_000,
        'clients to notice',
      );
    } finally {
      await postgres.startServer();
    }
    const restarted = Date.now();
    const upFrom = load.sent.length;
    await eventually(async () => load.acceptedSince(upFrom) >= 30, 90_000, 'commands accepted again');
    await load.stop();

    const outcome = await settle(scenario, load);
    const recovery = Date.now() - restarted;
    const { rows } = await scenario.db.query<{ orders: number }>('select count(*)::int as orders from orders');
    const retried = load.sent.filter((command) => command.statuses.length > 1).length;
    const answers = [...new Set(load.sent.flatMap((command) => command.statuses))].sort().join(', ');
    report({
      scenario: '5 PostgreSQL stopped (immediate) mid-burst, then started',
      ...outcome,
      recovery: seconds(recovery),
      notes: `${retried} commands retried with their key (answers seen: ${answers}); ${rows[0]!.orders} orders for ${outcome.accepted} accepted keys; API and worker not restarted`,
    });
    expect(
      processes.every((process) => process.alive),
      'API and worker recovered without a restart',
    ).to.equal(true);
    expect(
      load.sent.every((command) => command.orderId),
      'every command eventually accepted',
    ).to.equal(true);
    expect(rows[0]!.orders, 'exactly one order per Idempotency-Key').to.equal(outcome.accepted);
    expect(new Set(load.accepted.map((command) => command.orderId)).size).to.equal(outcome.accepted);
    expectNothingLostOrDoubled(outcome);
  });
});
