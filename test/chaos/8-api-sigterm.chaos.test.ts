import { expect } from 'chai';
import { eventually } from '../support/http.js';
import {
  call,
  CommandLoad,
  openScenario,
  seconds,
  settle,
  type Scenario,
  type ServiceProcess,
  expectNothingLostOrDoubled,
} from './harness.js';
import { report } from './report.js';

describe('Chaos 8: the API gets SIGTERM under load', function () {
  this.timeout(300_000);
  let scenario: Scenario;
  before(async () => {
    // 1.5 s between readiness turning 503 and the server closing, as a load balancer needs.
    scenario = await openScenario('api-sigterm', { SHUTDOWN_DELAY_MS: '1500' });
  });
  after(() => scenario?.close());

  it('When an API replica is told to stop, then its readiness goes 503 first and no request in flight or routed to it fails', async () => {
    await scenario.start('worker');
    const second = await scenario.start('api');
    const apis: ServiceProcess[] = [scenario.api, second];
    // A load balancer: routes to replicas whose last readiness probe said 200, probing every 100 ms.
    const ready = new Map(apis.map((api) => [api, true]));
    const timeline: string[] = [];
    let probing = true;
    const probes = (async () => {
      while (probing) {
        for (const api of apis) {
          const status = (await call(api.url, '/health/ready', undefined)).status;
          if (ready.get(api) && status !== 200) timeline.push(`readiness ${status || 'refused'} at ${Date.now()}`);
          ready.set(api, status === 200);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    let next = 0;
    const load = new CommandLoad(scenario, {
      clients: 4,
      pauseMs: 10,
      target: () => {
        const up = apis.filter((api) => ready.get(api));
        return up[next++ % up.length]?.url;
      },
    });
    await eventually(async () => load.accepted.length >= 40, 60_000, 'load on both replicas');

    await eventually(async () => load.inFlight > 0, 10_000, 'requests in flight');
    const inFlight = load.inFlight;
    const signalled = Date.now();
    const sentBefore = load.sent.length;
    await scenario.api.kill('SIGTERM');
    const exitedAfter = Date.now() - signalled;
    const { code } = await scenario.api.exited;
    const notReadyAt = Number(/at (\d+)/.exec(timeline[0] ?? '')?.[1] ?? NaN) - signalled;
    const afterExit = load.sent.length;
    await eventually(async () => load.acceptedSince(afterExit) >= 20, 60_000, 'load on the remaining replica');
    await load.stop();
    probing = false;
    await probes;

    const outcome = await settle(scenario, load);
    const failed = load.sent.filter((command) => !command.orderId);
    report({
      scenario: '8 API SIGTERMed under load (2 replicas behind a readiness-probing balancer)',
      ...outcome,
      recovery: seconds(exitedAfter),
      notes: `${inFlight} requests in flight at SIGTERM, ${load.sent.length - sentBefore} sent after; readiness 503 after ${notReadyAt} ms; exit ${code} after ${seconds(exitedAfter)}; ${failed.length} failed requests`,
    });
    expect(timeline.length, 'readiness went 503 before the process was gone').to.be.greaterThan(0);
    expect(timeline[0]).to.match(/^readiness 503/);
    expect(code).to.equal(0);
    expect(
      failed.map((command) => command.statuses),
      'no request failed',
    ).to.deep.equal([]);
    expectNothingLostOrDoubled(outcome);
  });
});
