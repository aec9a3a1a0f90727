import { Writable } from 'node:stream';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { expect } from 'chai';
import winston from 'winston';
import { newId } from '../../src/platform/ids.js';
import { createProduct } from '../support/fixtures.js';
import { eventually, http } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { tokenFor } from '../support/tokens.js';

/** A winston logger whose JSON lines land in `lines` (the shape createLogger writes). */
function capturingLogger(lines: Record<string, unknown>[]) {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
}

describe('Every command, query and job is observed from outside (span, duration, outcome, log line)', function () {
  this.timeout(30_000);
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const logs: Record<string, unknown>[] = [];
  let service: TestService;
  let token: string;

  before(async () => {
    service = await startTestService({
      roles: ['relay', 'projections'],
      overrides: { tracer: provider.getTracer('test'), logger: capturingLogger(logs) },
    });
    token = tokenFor(service.config, { sub: 'ada', tenant: 'acme', roles: ['customer'] });
  });
  after(async () => {
    await service.stop();
    await provider.shutdown();
  });

  const spansNamed = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);
  const linesOf = (kind: string, name: string) => logs.filter((line) => line['cqrs.kind'] === kind && line['cqrs.name'] === name);
  async function handledCount(kind: string, name: string, outcome: string): Promise<number> {
    const metric = await service.services.metrics.registry.getSingleMetric('cqrs_handled_total')!.get();
    const found = metric.values.find((v) => v.labels.kind === kind && v.labels.name === name && v.labels.outcome === outcome);
    return found?.value ?? 0;
  }
  async function durationSamples(kind: string, name: string): Promise<number> {
    const metric = await service.services.metrics.registry.getSingleMetric('cqrs_handle_duration_seconds')!.get();
    const values = metric.values as { metricName?: string; labels: Record<string, unknown>; value: number }[];
    const count = values.filter(
      (v) => v.metricName === 'cqrs_handle_duration_seconds_count' && v.labels.kind === kind && v.labels.name === name,
    );
    return count.reduce((sum, v) => sum + v.value, 0);
  }

  it('When an order is placed and read, then the command, the query and the projection job each leave a span, a duration, an outcome and a log line', async () => {
    const productId = await createProduct(service.services, 'acme', { priceCents: 700 });
    const placed = await http(`${service.url}/v1/orders`, { token, body: { lines: [{ productId, quantity: 1 }] } });
    const read = await http(`${service.url}/v1/orders/${placed.body.orderId}?consistentWith=${placed.body.commandId}`, {
      token,
    });
    expect(read.status).to.equal(200);
    // The product's and the order's events go in one projection job or two, depending on whether
    // the relay woke between the two commits: one finished job, with its log line, is what is checked.
    await eventually(
      async () => spansNamed('job projections').length >= 1 && linesOf('job', 'projections').length >= 1,
      10_000,
      'a projection job span and its log line',
    );

    for (const [kind, name] of [
      ['command', 'placeOrder'],
      ['query', 'getOrder'],
      ['job', 'projections'],
    ] as const) {
      const [span] = spansNamed(`${kind} ${name}`);
      expect(span, `${kind} ${name} span`).to.not.equal(undefined);
      expect(span!.attributes).to.include({ 'cqrs.kind': kind, 'cqrs.name': name, 'cqrs.outcome': 'ok' });
      expect(await handledCount(kind, name, 'ok'), `${kind} ${name} counted`).to.be.at.least(1);
      expect(await durationSamples(kind, name), `${kind} ${name} timed`).to.be.at.least(1);
      expect(
        linesOf(kind, name).map((line) => line.outcome),
        `${kind} ${name} logged`,
      ).to.include('ok');
    }
  });

  it('When a query refuses (not found), then its outcome is "rejected" on the span, the counter and the log line', async () => {
    const before = await handledCount('query', 'getOrder', 'rejected');

    const missing = await http(`${service.url}/v1/orders/${newId()}`, { token });

    expect(missing.status).to.equal(404);
    expect(await handledCount('query', 'getOrder', 'rejected')).to.equal(before + 1);
    expect(spansNamed('query getOrder').some((span) => span.attributes['cqrs.outcome'] === 'rejected')).to.equal(true);
    expect(linesOf('query', 'getOrder').some((line) => line.outcome === 'rejected')).to.equal(true);
  });
});
