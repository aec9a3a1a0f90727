import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { expect } from 'chai';
import winston from 'winston';
import { NotFoundError } from '../../src/platform/errors.js';
import { Metrics } from '../../src/platform/metrics.js';
import { Observer } from '../../src/platform/observe.js';

describe("Observer: the span of a command, query or job follows its request's sampling", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('test');
  const manager = new AsyncLocalStorageContextManager();
  const logger = winston.createLogger({ level: 'error', transports: [new winston.transports.Console({ silent: true })] });
  let metrics: Metrics;
  let observer: Observer;
  const calls = async (outcome: string) =>
    (await metrics.partCalls.get()).values.find((value) => value.labels.outcome === outcome && value.labels.name === 'getOrder')
      ?.value ?? 0;

  before(() => void context.setGlobalContextManager(manager.enable()));
  after(() => {
    manager.disable();
    context.disable();
  });
  beforeEach(() => {
    exporter.reset();
    metrics = new Metrics({ service: 'test', process: 'test' });
    observer = new Observer(metrics, logger, tracer);
  });

  it("When the request was not sampled, then the part runs in the request's span context (no span of its own) and is still counted", async () => {
    const unsampled = trace.wrapSpanContext({
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    });
    const run = observer.runner('query', 'getOrder');
    const seen = await context.with(trace.setSpan(context.active(), unsampled), () =>
      run(async () => trace.getActiveSpan()?.spanContext()),
    );
    expect(seen).to.include({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) });
    expect(exporter.getFinishedSpans()).to.deep.equal([]);
    expect(await calls('ok')).to.equal(1);

    const failing = context.with(trace.setSpan(context.active(), unsampled), () =>
      run(async () => {
        throw new NotFoundError('Order', 'o1');
      }),
    );
    const thrown = await failing.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(thrown).to.be.instanceOf(NotFoundError);
    expect(await calls('rejected')).to.equal(1);
  });

  it("When the request was sampled, then the part has its own span, a child of the request's, with its outcome", async () => {
    const request = tracer.startSpan('request');
    const run = observer.runner('query', 'getOrder');
    await context.with(trace.setSpan(context.active(), request), () => run(async () => 'done'));
    request.end();
    const [part] = exporter.getFinishedSpans().filter((span) => span.name === 'query getOrder');
    expect(part, 'a query getOrder span').to.not.equal(undefined);
    expect(part!.parentSpanContext?.spanId).to.equal(request.spanContext().spanId);
    expect(part!.attributes).to.include({ 'cqrs.kind': 'query', 'cqrs.name': 'getOrder', 'cqrs.outcome': 'ok' });
  });
});
