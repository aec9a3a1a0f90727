import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { SPAN_EXPORT_DELAY_MS } from '../../src/platform/telemetry/sdk.js';
import { startModule } from '../support/processes.js';

/** The SDK's own default (OTEL_BSP_SCHEDULE_DELAY unset), which startTelemetry replaces. */
const SDK_DEFAULT_DELAY_MS = 5000;

describe('Telemetry: span exports', () => {
  let collector: Server;

  before(async () => {
    // An OTLP/HTTP (JSON) endpoint that notes when each export arrives.
    collector = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        collector.emit('export', performance.now());
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  });

  after(() => new Promise<void>((resolve) => collector.close(() => resolve())));

  it('When a process ends a span and OTEL_BSP_SCHEDULE_DELAY is unset, then it is exported within about a second, not the SDK’s 5 s', async function () {
    this.timeout(60_000);
    const { port } = collector.address() as AddressInfo;
    const sdkModule = new URL('../../src/platform/telemetry/sdk.ts', import.meta.url).href;
    // A process of its own (the SDK registers itself globally), started from PATH and HOME only, so
    // no OTEL_BSP_SCHEDULE_DELAY reaches it.
    const traced = startModule(
      `const { startTelemetry } = await import(${JSON.stringify(sdkModule)});
       const { trace } = await import('@opentelemetry/api');
       startTelemetry();
       trace.getTracer('test').startSpan('one span').end();
       console.log('ended');
       setInterval(() => {}, 60_000);`,
      {
        cleanEnv: true,
        env: {
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
          OTEL_TRACES_SAMPLER: 'always_on',
        },
      },
    );
    try {
      // Listening before the span can be exported: the export waits for the schedule.
      const exported = once(collector, 'export', { signal: AbortSignal.timeout(30_000) }) as Promise<[number]>;
      exported.catch(() => undefined); // awaited below; not unhandled if the process fails first
      await traced.waitFor(/^ended$/);
      const ended = performance.now();
      const [arrived] = await exported;
      const waited = arrived - ended;
      // Without startTelemetry's default the SDK waits 5 s.
      expect(waited).to.be.lessThan(SDK_DEFAULT_DELAY_MS - 1500);
      expect(waited).to.be.greaterThan(SPAN_EXPORT_DELAY_MS - 300);
    } finally {
      await traced.stop();
    }
  });
});
