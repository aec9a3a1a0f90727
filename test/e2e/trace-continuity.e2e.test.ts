import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { compose } from '../../src/composition-root.js';
import { createProduct } from '../support/fixtures.js';
import { eventually, http } from '../support/http.js';
import { startProcess, type RunningProcess } from '../support/processes.js';
import { createTestEnvironment, type TestEnvironment } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  service: string;
  links?: { traceId: string; spanId: string }[];
  attributes?: { key: string; value: { stringValue?: string } }[];
}

/** A pg.query span's SQL (the pg instrumentation records it), so a check can say which statement. */
const statementOf = (span: ExportedSpan): string =>
  span.attributes?.find((a) => a.key === 'db.query.text' || a.key === 'db.statement')?.value.stringValue ?? '';

/** A minimal OTLP/HTTP (JSON) receiver: the real processes export their spans to it. */
async function startCollector(): Promise<{ server: Server; url: string; spans: ExportedSpan[] }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += String(chunk)));
    request.on('end', () => {
      const payload = JSON.parse(body) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue?: string } }[] };
          scopeSpans: { spans: ExportedSpan[] }[];
        }[];
      };
      for (const resourceSpans of payload.resourceSpans ?? []) {
        const service = resourceSpans.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const scope of resourceSpans.scopeSpans) for (const span of scope.spans) spans.push({ ...span, service });
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans };
}

/** An entry point as a real process with the telemetry loader, as the images start it. */
function run(entry: string, env: Record<string, string>): RunningProcess {
  return startProcess({ args: ['--import', 'tsx', '--import', './src/platform/telemetry/register.ts', entry], env });
}

/** The JSON log records a process wrote so far. */
const records = (running: RunningProcess): Record<string, unknown>[] =>
  running.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);

describe('One trace from request to read model (real processes exporting OTLP)', function () {
  this.timeout(180_000);
  let environment: TestEnvironment;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  const children: RunningProcess[] = [];

  before(async () => {
    environment = await createTestEnvironment({}, { migrate: true });
    collector = await startCollector();
  });
  after(async () => {
    for (const child of children) await child.stop();
    collector.server.close();
    await environment.destroy();
  });

  it('When an order is placed with a traceparent, then the API, the outbox relay, the jobs and the projection and payment workers all join that trace, and logs carry its id', async () => {
    const { config } = environment;
    const common = {
      NODE_ENV: 'test',
      DATABASE_URL: config.DATABASE_URL,
      REDIS_URL: config.REDIS_URL,
      QUEUE_PREFIX: config.QUEUE_PREFIX,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    const api = run('src/api/server.ts', { ...common, PORT: '0', OTEL_SERVICE_NAME: 'api' });
    const worker = run('src/workers/main.ts', {
      ...common,
      WORKER_HTTP_PORT: '0',
      WORKER_ROLES: 'relay,projections,payments',
      OTEL_SERVICE_NAME: 'worker',
    });
    children.push(api, worker);
    // Started processes are awaited by their "ready" line (or their exit), not by a time budget:
    // two tsx processes on a loaded 2-core machine can take far longer than on a quiet one.
    const [ready] = await Promise.all([api.waitForLog('API ready', 170_000), worker.waitForLog('worker ready', 170_000)]);

    const seed = await compose(config);
    const productId = await createProduct(seed, 'acme');
    await seed.close();
    const traceId = randomBytes(16).toString('hex');
    const placed = await http(`${ready.url as string}/v1/orders`, {
      token: tokenFor(config, { sub: 'ada', tenant: 'acme', roles: ['customer'] }),
      body: { lines: [{ productId, quantity: 1 }] },
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    });
    expect(placed.status).to.equal(202);

    const traced = () => collector.spans.filter((span) => span.traceId === traceId);
    const inTrace = () => traced().map((span) => `${span.service}: ${span.name}`);
    // Statements are told apart by their SQL: several of them start with WITH.
    const written = () => traced().map((span) => `${span.service}: ${statementOf(span)}`);
    const expected: [string, RegExp][] = [
      ['the request', /^api: POST \/v1\/orders$/],
      // Unsampled requests count their rate limits outside the trace; sampled ones keep the span.
      ['the rate limits', /^api: evalsha$/],
      ['the relay publishing the outbox row', /^worker: publish OrderPlaced$/],
      ['the projection job', /^worker: .*projections/],
      ['the payment job', /^worker: .*payments/],
    ];
    // Shown as written, `?` for each value: not the EXECUTE of a prepared statement with the values inlined.
    const expectedWrites: [string, RegExp][] = [
      ['the command transaction', /^api: .*insert into command_log/is],
      ['the projection writing the read model', /^worker: .*insert into processed_events.*values \(\?, \?, \?\)/is],
    ];
    const missing = () => [
      ...expected.filter(([, pattern]) => !inTrace().some((name) => pattern.test(name))).map(([what]) => what),
      ...expectedWrites.filter(([, pattern]) => !written().some((text) => pattern.test(text))).map(([what]) => what),
    ];
    await eventually(async () => missing().length === 0, 60_000, 'every expected span in the trace').catch(() => undefined);

    expect(missing(), `spans in the trace: ${inTrace().join(', ')}`).to.deep.equal([]);
    expect(written().filter((text) => /execute cqrs_/i.test(text))).to.deep.equal([]);
    const batch = collector.spans.find(
      (span) => span.name === 'relay batch' && span.links?.some((link) => link.traceId === traceId),
    );
    expect(batch, 'a relay batch span linked to the request trace').to.not.equal(undefined);
    // Log lines come through a pipe, independently of the spans: wait for them too.
    const logged = (running: RunningProcess) => records(running).some((line) => line.trace_id === traceId);
    await eventually(async () => logged(api) && logged(worker), 60_000, 'log lines with the trace id').catch(() => undefined);
    const requestLog = records(api).find((line) => line.trace_id === traceId);
    expect(requestLog, 'an API log line with the trace id').to.not.equal(undefined);
    expect(logged(worker), 'a worker log line with the trace id').to.equal(true);
  });
});
