import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import pg from 'pg';
import type { RawOrderJob } from '../raw/raw-worker.js';
import {
  TENANT,
  createProduct,
  customerTokens,
  orderBody,
  rawDatabase,
  sleep,
  startProject,
  startRaw,
  type BenchContext,
} from '../lib/context.js';
import { dropTestData, uniqueId } from '../../support/database.js';
import { openLoop } from '../lib/load.js';
import { cpuWindow, type BenchProcess, type CpuPerUnit } from '../lib/processes.js';
import { stageTimes, type StageTimes } from '../lib/stages.js';
import { pairedRatios, percentile, round, type RatioSummary } from '../lib/stats.js';

export interface FreshnessRun {
  sent: number;
  visible: number;
  rejected: number;
  /** Why the rejected ones were: HTTP status, or the client's error code when no answer came. */
  rejections?: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Each process's CPU time over the load (until the last order was visible), per visible order. */
  cpu: CpuPerUnit[];
  /** The service only: where each order's time went, stage by stage (lib/stages.ts). */
  stages?: StageTimes;
}

export interface FreshnessComparison {
  rate: number;
  seconds: number;
  pairs: Array<{ project: FreshnessRun; raw: FreshnessRun }>;
  /** project p99 / raw p99 per pair (target: at most 3). */
  p99Ratio: RatioSummary;
}

/**
 * Watches order_view for ids and records when each first appears: the same observer for the
 * service and for the raw baseline, polling every 10 ms.
 */
function visibilityWatcher(databaseUrl: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  // Dropping the database at the end of a failed run ends this session: not a crash of the harness.
  client.on('error', () => undefined);
  const accepted = new Map<string, number>();
  const latencies: number[] = [];
  /** Wall-clock times per id (ms since the epoch), to line up with the pipeline's own timestamps. */
  const wallClock = new Map<string, { accepted: number; visible: number }>();
  let running = true;
  const loop = (async () => {
    await client.connect();
    while (running || accepted.size) {
      if (accepted.size) {
        const { rows } = await client.query<{ id: string }>('select id from order_view where id = any($1::uuid[])', [
          [...accepted.keys()],
        ]);
        const now = performance.now();
        const wallNow = Date.now();
        for (const { id } of rows) {
          const latency = now - accepted.get(id)!;
          latencies.push(latency);
          wallClock.set(id, { accepted: wallNow - latency, visible: wallNow });
          accepted.delete(id);
        }
      }
      await sleep(10);
    }
    await client.end();
  })();
  return {
    accept: (id: string) => accepted.set(id, performance.now()),
    /** Waits (bounded) until every accepted id was seen. */
    async finish(timeoutMs: number): Promise<number[]> {
      const deadline = Date.now() + timeoutMs;
      while (accepted.size && Date.now() < deadline) await sleep(50);
      const missing = accepted.size;
      accepted.clear();
      running = false;
      await loop;
      if (missing) throw new Error(`${missing} accepted orders never became visible`);
      return latencies;
    },
    wallClock,
  };
}

function summarize(sent: number, rejected: number, latencies: number[], cpu: ReturnType<typeof cpuWindow>): FreshnessRun {
  return {
    cpu: cpu.end(latencies.length),
    sent,
    visible: latencies.length,
    rejected,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
  };
}

/** Sends order `i` and has the watcher wait for it; returns why it was not accepted, or undefined. */
type SendOrder = (i: number, watcher: ReturnType<typeof visibilityWatcher>) => Promise<string | undefined>;

/**
 * Open-loop load of `send` at the scenario's rate: `warmupSeconds` of it first on the freshly
 * started processes, each order awaited until visible and none counted, so that the measured
 * window sees running processes (connections open, code compiled, statements prepared), as
 * production's long-lived ones are, not the first orders after a start; then `pipelineSeconds`
 * watched by a watcher of its own. Orders not accepted, warm-up included, are counted by reason.
 */
async function warmThenMeasure(
  context: BenchContext,
  databaseUrl: string,
  processes: BenchProcess[],
  send: SendOrder,
): Promise<{
  sent: number;
  rejected: number;
  rejections: Record<string, number>;
  watcher: ReturnType<typeof visibilityWatcher>;
  cpu: ReturnType<typeof cpuWindow>;
}> {
  const { rate, warmupSeconds, pipelineSeconds } = context.settings;
  const rejections: Record<string, number> = {};
  let rejected = 0;
  const load = (seconds: number, watcher: ReturnType<typeof visibilityWatcher>, label = '') =>
    openLoop(rate, seconds, async (i) => {
      const reason = await send(i, watcher);
      if (reason === undefined) return;
      rejected++;
      rejections[`${label}${reason}`] = (rejections[`${label}${reason}`] ?? 0) + 1;
    });
  const warming = visibilityWatcher(databaseUrl);
  await load(warmupSeconds, warming, 'during the warm-up: ');
  await warming.finish(60_000);
  const watcher = visibilityWatcher(databaseUrl);
  const cpu = cpuWindow(processes);
  const sent = await load(pipelineSeconds, watcher);
  return { sent, rejected, rejections, watcher, cpu };
}

/** The service: open-loop `POST /v1/orders` at `rate`; 202 received -> the order is in order_view. */
async function projectFreshness(context: BenchContext): Promise<FreshnessRun> {
  const service = await startProject(context, 'freshness', context.settings.freshnessRoles);
  try {
    const productId = await createProduct(context, service);
    const tokens = customerTokens(context, 50);
    const postOrder: SendOrder = async (i, watcher) => {
      let failure = '';
      const response = await fetch(`${service.url}/v1/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[i % tokens.length]}`, 'content-type': 'application/json' },
        body: orderBody(productId),
      }).catch((error: Error & { cause?: { code?: string; message?: string } }) => {
        failure = error.cause?.code ?? error.cause?.message ?? error.message;
        return undefined;
      });
      if (response?.status !== 202) {
        await response?.arrayBuffer();
        return response ? `HTTP ${response.status}` : `no answer: ${failure}`;
      }
      watcher.accept(((await response.json()) as { orderId: string }).orderId);
      return undefined;
    };
    const { sent, rejected, rejections, watcher, cpu } = await warmThenMeasure(
      context,
      service.databaseUrl,
      [service.api, ...service.workers],
      postOrder,
    );
    const run = { ...summarize(sent, rejected, await watcher.finish(60_000), cpu), rejections };
    return { ...run, stages: await stageTimes(service.databaseUrl, context.redisUrl, service.prefix, watcher.wallClock) };
  } finally {
    await service.stop();
  }
}

/** Raw BullMQ at the same rate: `add` resolved -> the raw worker's upsert is visible. */
async function rawFreshness(context: BenchContext): Promise<FreshnessRun> {
  const dbName = `bench_rawjobs_${uniqueId()}`;
  const prefix = `{bench-raw-${uniqueId()}}`;
  const databaseUrl = await rawDatabase(context, dbName);
  const worker = await startRaw(context, 'raw worker', 'raw-worker', {
    DATABASE_URL: databaseUrl,
    REDIS_URL: context.redisUrl,
    QUEUE_PREFIX: prefix,
    CONCURRENCY: '10',
  });
  const redis = new URL(context.redisUrl);
  const queue = new Queue<RawOrderJob>('raw-orders', {
    connection: { host: redis.hostname, port: Number(redis.port || 6379), enableOfflineQueue: false },
    prefix,
  });
  const addOrder: SendOrder = async (i, watcher) => {
    const orderId = randomUUID();
    const job = { eventId: randomUUID(), orderId, tenantId: TENANT, customerId: `c${i % 50}`, totalCents: 100, version: 1 };
    const failure = await queue.add('OrderPlaced', { ...job, at: new Date().toISOString() }, { removeOnComplete: 1000 }).then(
      () => undefined,
      (error: Error) => `add failed: ${error.message}`,
    );
    if (failure === undefined) watcher.accept(orderId);
    return failure;
  };
  try {
    const { sent, rejected, rejections, watcher, cpu } = await warmThenMeasure(context, databaseUrl, [worker.proc], addOrder);
    return { ...summarize(sent, rejected, await watcher.finish(60_000), cpu), rejections };
  } finally {
    await queue.close();
    await worker.proc.stop();
    await dropTestData(databaseUrl, context.redisUrl, prefix);
  }
}

/** Interleaved pairs of open-loop runs at the same fixed rate. */
export async function freshnessScenario(context: BenchContext): Promise<FreshnessComparison> {
  const { rate, pipelineSeconds, pairs: count } = context.settings;
  const pairs: FreshnessComparison['pairs'] = [];
  for (let pair = 0; pair < count; pair++) {
    const order = pair % 2 === 0 ? (['project', 'raw'] as const) : (['raw', 'project'] as const);
    const results: Partial<Record<'project' | 'raw', FreshnessRun>> = {};
    for (const side of order) {
      context.progress(
        `freshness: pair ${pair + 1}/${count}: ${side} at ${rate}/s for ${pipelineSeconds}s (after ${context.settings.warmupSeconds}s of warm-up)`,
      );
      const result = side === 'project' ? await projectFreshness(context) : await rawFreshness(context);
      if (result.rejected)
        context.invalid(
          `freshness ${side}: ${result.rejected} of ${result.sent} not accepted${result.rejections ? ` (${JSON.stringify(result.rejections)})` : ''}`,
        );
      results[side] = result;
      context.progress(
        `freshness:   ${side}: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms, ` +
          `CPU ms/order ${result.cpu.map((p) => `${p.name} ${p.perUnitMs}`).join(', ')}`,
      );
      for (const [stage, times] of Object.entries(result.stages?.stages ?? {}))
        context.progress(`freshness:     ${stage}: p50 ${times.p50} ms, p99 ${times.p99} ms, max ${times.max} ms`);
    }
    pairs.push(results as Record<'project' | 'raw', FreshnessRun>);
  }
  return {
    rate,
    seconds: pipelineSeconds,
    pairs,
    p99Ratio: pairedRatios(pairs.map(({ project, raw }) => ({ a: project.p99Ms, b: raw.p99Ms }))),
  };
}
