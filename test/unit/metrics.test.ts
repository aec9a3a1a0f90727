import { expect } from 'chai';
import { EVENT_LOOP_SAMPLE_MS, Metrics } from '../../src/platform/metrics.js';
import { procContextSwitches } from '../bench/lib/processes.js';
import { startModule } from '../support/processes.js';

/** As a scrape reads it: the lag series are filled from the sampler's histogram by the scrape. */
const lagMaxSeconds = async (metrics: Metrics) =>
  Number(/^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? (\S+)$/m.exec(await metrics.registry.metrics())?.[1] ?? 0);

/** Times the process's main thread went to sleep and was woken (Linux). */
const wakeUps = (pid: number) => procContextSwitches(pid)?.voluntary ?? Number.NaN;

describe('Metrics: the event-loop lag sampler', () => {
  it('When the loop is blocked for longer than the sample period, then the lag series shows the whole stall', async () => {
    const metrics = new Metrics({ service: 'test', process: 'test' });
    await new Promise((resolve) => setTimeout(resolve, EVENT_LOOP_SAMPLE_MS * 2));
    const blockedUntil = performance.now() + 500;
    while (performance.now() < blockedUntil); // a synchronous stall, as a hot loop or a huge JSON.parse would make
    await new Promise((resolve) => setTimeout(resolve, EVENT_LOOP_SAMPLE_MS * 2));
    // The sampler's timer was due at most one sample period into the stall, and fired at its end.
    expect(await lagMaxSeconds(metrics)).to.be.greaterThan(0.5 - EVENT_LOOP_SAMPLE_MS / 1000 - 0.01);
  });

  it('When a process with metrics has nothing to do, then the sampler wakes it a few times a second, not 100 (prom-client’s default)', async function () {
    this.timeout(30_000);
    // A process of its own: this one's timers (mocha's, other tests' clients) would blur the count.
    const metricsModule = new URL('../../src/platform/metrics.ts', import.meta.url).href;
    const idle = startModule(
      `const { Metrics } = await import(${JSON.stringify(metricsModule)});
       new Metrics({ service: 'test', process: 'idle' });
       console.log('ready');
       setInterval(() => {}, 60_000);`,
    );
    try {
      await idle.waitFor(/^ready$/);
      await new Promise((resolve) => setTimeout(resolve, 500)); // past its start-up work
      const before = wakeUps(idle.pid);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const perSecond = (wakeUps(idle.pid) - before) / 2;
      // The sampler alone accounts for 1000 / EVENT_LOOP_SAMPLE_MS; at prom-client's 10 ms it was over 100.
      expect(perSecond).to.be.lessThan(40);
    } finally {
      await idle.stop();
    }
  });
});
