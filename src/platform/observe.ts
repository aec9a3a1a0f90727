import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { Counter, Histogram } from 'prom-client';
import { AppError } from './errors.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** The three kinds of part a request or a job runs through. */
export type PartKind = 'command' | 'query' | 'job';

/**
 * `ok`; `rejected` when the part refused on purpose (an AppError: not found, forbidden, a broken
 * rule); `failed` for everything else (a bug, a dependency down).
 */
export type Outcome = 'ok' | 'rejected' | 'failed';

interface Instruments {
  duration: Record<Outcome, ReturnType<Histogram['labels']>>;
  calls: Record<Outcome, ReturnType<Counter['labels']>>;
  spanName: string;
  attributes: Record<string, string>;
}

/**
 * The cross-cutting wrapper around every command handler, query handler and job processor
 * (wild-workouts' decorators): one span, one duration sample, one outcome count and one log line
 * per call, so handler bodies hold only their logic. Label children are bound once per part, not
 * per call: the wrapper sits on the hot path.
 */
export class Observer {
  constructor(
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly tracer: Tracer = trace.getTracer('cqrs-service'),
  ) {}

  /** Wraps every `handle` of a table of handlers (`Commands`, `Queries`); the key names the part. */
  wrapAll<T extends Record<string, Handler>>(kind: PartKind, handlers: T): T {
    const wrapped = {} as Record<string, Handler>;
    for (const [name, handler] of Object.entries(handlers)) wrapped[name] = this.wrap(kind, name, handler);
    return wrapped as T;
  }

  /** The same handler, its `handle` observed (other members reach the original through the prototype). */
  wrap<H extends Handler>(kind: PartKind, name: string, handler: H): H {
    const run = this.runner(kind, name);
    const observed = Object.create(handler) as H;
    const handle = handler.handle.bind(handler) as (...args: unknown[]) => Promise<unknown>;
    observed.handle = (...args: unknown[]) => run(() => handle(...args));
    return observed;
  }

  /** Observes one part's calls: `runner('job', 'payments')(() => process(job))`. */
  runner(kind: PartKind, name: string): <R>(work: () => Promise<R>) => Promise<R> {
    const instruments = this.instrumentsFor(kind, name);
    const level = kind === 'job' ? 'info' : 'debug';
    return async (work) => {
      // Under a parent the sampler left out (90% of requests in production), the part's span would
      // not be recorded either (the samplers decide by parent or by trace id): the part runs in the
      // parent's context, without a span object, its context and its attributes.
      const parent = trace.getActiveSpan();
      const span =
        parent && !parent.isRecording()
          ? undefined
          : this.tracer.startSpan(instruments.spanName, { kind: SpanKind.INTERNAL, attributes: instruments.attributes });
      const started = performance.now();
      try {
        const result = span ? await context.with(trace.setSpan(context.active(), span), work) : await work();
        this.finish(instruments, span, started, 'ok', level);
        return result;
      } catch (error) {
        const outcome: Outcome = error instanceof AppError ? 'rejected' : 'failed';
        span?.recordException(error as Error);
        span?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
        this.finish(instruments, span, started, outcome, outcome === 'failed' ? 'warn' : level, error);
        throw error;
      }
    };
  }

  private finish(
    instruments: Instruments,
    span: Span | undefined,
    started: number,
    outcome: Outcome,
    level: 'debug' | 'info' | 'warn',
    error?: unknown,
  ): void {
    const seconds = (performance.now() - started) / 1000;
    instruments.duration[outcome].observe(seconds);
    instruments.calls[outcome].inc();
    span?.setAttribute('cqrs.outcome', outcome);
    span?.end();
    if (!this.logger.isLevelEnabled(level)) return;
    this.logger.log(level, `${instruments.attributes['cqrs.kind']} handled`, {
      ...instruments.attributes,
      outcome,
      durationMs: Math.round(seconds * 1000),
      ...(error ? { error: (error as Error)?.message ?? String(error) } : {}),
    });
  }

  private instrumentsFor(kind: PartKind, name: string): Instruments {
    const outcomes: Outcome[] = ['ok', 'rejected', 'failed'];
    const bind = <C>(of: (outcome: Outcome) => C) =>
      Object.fromEntries(outcomes.map((outcome) => [outcome, of(outcome)])) as Record<Outcome, C>;
    return {
      duration: bind((outcome) => this.metrics.partDuration.labels(kind, name, outcome)),
      calls: bind((outcome) => this.metrics.partCalls.labels(kind, name, outcome)),
      spanName: `${kind} ${name}`,
      attributes: { 'cqrs.kind': kind, 'cqrs.name': name },
    };
  }
}

export interface Handler {
  handle(...args: never[]): Promise<unknown>;
}
