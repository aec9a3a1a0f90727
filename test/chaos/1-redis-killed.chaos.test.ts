import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import { eventually } from '../support/http.js';
import { chaosStage, CommandLoad, openScenario, seconds, settle, type Scenario, expectNothingLostOrDoubled } from './harness.js';
import { report } from './report.js';

describe('Chaos 1: Redis SIGKILLed under load and restarted 15 s later (AOF on)', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  before(async () => {
    scenario = await openScenario('redis-killed');
  });
  after(() => scenario?.close());

  it('When Redis dies under load, then commands are still accepted; when it returns, the backlog drains with nothing lost or applied twice', async () => {
    const { redis } = await chaosStage();
    await scenario.start('worker');
    const load = new CommandLoad(scenario, { target: () => scenario.api.url });
    await eventually(async () => load.accepted.length >= 30, 60_000, 'load under way');

    await redis.kill('SIGKILL');
    const downFrom = load.sent.length;
    await delay(15_000); // the outage itself: its length is the scenario, not a wait for state
    const acceptedWhileDown = load.acceptedSince(downFrom);
    await redis.startServer();
    const restarted = Date.now();
    const upFrom = load.sent.length;
    await eventually(async () => load.acceptedSince(upFrom) >= 20, 60_000, 'load after the restart');
    await load.stop();

    const outcome = await settle(scenario, load);
    const recovery = Date.now() - restarted;
    report({
      scenario: '1 Redis SIGKILLed under load, restarted after 15 s (AOF everysec)',
      ...outcome,
      recovery: seconds(recovery),
      notes: `${acceptedWhileDown} commands accepted while Redis was down`,
    });
    expect(acceptedWhileDown, 'the write path needs only PostgreSQL').to.be.greaterThan(0);
    expectNothingLostOrDoubled(outcome);
  });
});
