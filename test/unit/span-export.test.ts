import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { SPAN_EXPORT_DELAY_MS } from '../../src/platform/telemetry/sdk.js';
import { spawnModule } from '../support/processes.js';

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
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_TRACES_SAMPLER: 'always_on',
    };
    delete env.OTEL_BSP_SCHEDULE_DELAY;
    // A process of its own: the SDK registers itself globally.
    const child = spawnModule(
      `const { startTelemetry } = await import(modules.sdk);
       const { trace } = await import('@opentelemetry/api');
       startTelemetry();
       trace.getTracer('test').startSpan('one span').end();
       console.log('ended');
       setInterval(() => {}, 60_000);`,
      { sdk: new URL('../../src/platform/telemetry/sdk.ts', import.meta.url) },
      env,
    );
    try {
      const lines = createInterface({ input: child.stdout });
      for await (const line of lines) if (line === 'ended') break;
      const ended = performance.now();
      // Bounded by the SDK's default: without startTelemetry's, the span would wait 5 s.
      const [arrived] = (await once(collector, 'export', { signal: AbortSignal.timeout(SDK_DEFAULT_DELAY_MS + 2000) })) as [
        number,
      ];
      const waited = arrived - ended;
      expect(waited).to.be.lessThan(SDK_DEFAULT_DELAY_MS - 1500);
      expect(waited).to.be.greaterThan(SPAN_EXPORT_DELAY_MS - 300);
    } finally {
      child.kill();
    }
  });
});
