import { Queue } from 'bullmq';
import { sleep, startProject, withClient, type BenchContext } from '../lib/context.js';
import { cpuWindow, type CpuPerUnit } from '../lib/processes.js';
import { round, type RatioSummary } from '../lib/stats.js';
import { checkAfterRun, compareLayouts, settlementCounts, waitUntilSettled, warmedOrderLoad } from './pipeline.js';

export interface DrainRun {
  label: string;
  /** Orders whose events waited in the paused projections queue (placed and paid, both events published). */
  orders: number;
  /** Projection jobs waiting when the queue was resumed. */
  jobs: number;
  /** From the resume until every one of those orders is paid in order_view and counted in both summaries. */
  drainMs: number;
  ordersPerSecond: number;
  /** Each process's CPU time during the drain, per drained order. */
  cpu: CpuPerUnit[];
  processes: Array<{ name: string; peakRssMb: number; coldStartMs: number }>;
}

/**
 * What scaling the projections out is for: a backlog (KEDA adds replicas on the projections
 * queue's backlog, k8s/base/app). A fresh deployment of `workerRoles` is warmed up like a pipeline
 * run; then its projections queue is paused (BullMQ `pause`: the relay still publishes, no worker
 * takes a job) while `drainLoadSeconds` of `POST /v1/orders` run and every order is paid and every
 * event published; then the queue is resumed and the time taken until every order is paid in
 * order_view and counted once in customer_summary and in daily_sales is the drain. The API, the
 * relays and the payments are idle by then: the projection processes, PostgreSQL and Redis have
 * the cores. The same duplicate checks as a pipeline run.
 */
export async function drainRun(context: BenchContext, label: string, workerRoles: string[]): Promise<DrainRun> {
  const service = await startProject(context, label, workerRoles);
  const redis = new URL(context.redisUrl);
  const projections = new Queue('projections', {
    connection: { host: redis.hostname, port: Number(redis.port || 6379), enableOfflineQueue: false },
    prefix: service.prefix,
  });
  try {
    const { commandLoad, warmed } = await warmedOrderLoad(context, service, `${label} drain`);
    await projections.pause();
    await commandLoad(context.settings.drainLoadSeconds, 'backlog');
    if (!(await waitUntilPublished(service.databaseUrl, 180_000)))
      context.invalid(`${label}: the backlog's orders were not all paid and published after 180 s`);
    const waiting = await projections.getWaitingCount();
    const before = await settlementCounts(service.databaseUrl);
    // A drain that is not one: the queue was not paused, or its jobs went elsewhere.
    if (!waiting || before.viewed !== warmed.counts.viewed)
      context.invalid(
        `${label}: no backlog to drain (${waiting} jobs waiting, ${before.viewed - warmed.counts.viewed} orders projected meanwhile)`,
      );
    const cpu = cpuWindow([service.api, ...service.workers]);
    const started = performance.now();
    await projections.resume();
    const settled = await waitUntilSettled(service.databaseUrl, 180_000, 20);
    const drainMs = performance.now() - started;
    const orders = settled.counts.orders - warmed.counts.orders;
    if (!settled.ok) context.invalid(`${label}: the backlog was not drained after 180 s: ${JSON.stringify(settled.counts)}`);
    await checkAfterRun(context, label, service);
    const result = {
      label,
      orders,
      jobs: waiting,
      drainMs: Math.round(drainMs),
      ordersPerSecond: round(orders / (drainMs / 1000)),
      cpu: cpu.end(orders),
    };
    await projections.close();
    return { ...result, processes: await service.stop() };
  } catch (error) {
    await projections.close().catch(() => undefined);
    await service.stop().catch(() => undefined);
    throw error;
  }
}

/** Every order paid and every outbox row published (so every event of the backlog is a waiting projections job). */
async function waitUntilPublished(databaseUrl: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return withClient(databaseUrl, async (client) => {
    for (;;) {
      const { rows } = await client.query<{ unpaid: number; unpublished: number }>(`
        select (select count(*)::int from orders where status <> 'paid') as unpaid,
               (select count(*)::int from outbox_events where published_at is null) as unpublished`);
      if (rows[0]!.unpaid === 0 && rows[0]!.unpublished === 0) return true;
      if (Date.now() > deadline) return false;
      await sleep(100);
    }
  });
}

export interface DrainComparison {
  name: string;
  a: string;
  b: string;
  pairs: Array<{ a: DrainRun; b: DrainRun }>;
  ratio: RatioSummary;
}

/** Interleaved pairs of two layouts draining the same backlog (A then B, then B then A, ...). */
export async function compareDrains(
  context: BenchContext,
  name: string,
  a: { label: string; roles: string[] },
  b: { label: string; roles: string[] },
): Promise<DrainComparison> {
  return compareLayouts(context, name, a, b, async (variant) => {
    context.progress(
      `${name}: ${variant.label} (${variant.roles.join(' | ')}), a backlog of ${context.settings.drainLoadSeconds}s of orders`,
    );
    const result = await drainRun(context, `${variant.label}-drain`, variant.roles);
    context.progress(
      `${name}:   ${result.orders} orders in ${result.jobs} jobs drained in ${result.drainMs} ms: ${result.ordersPerSecond} orders/s, ` +
        `CPU ms/order ${result.cpu
          .filter((p) => p.perUnitMs > 0.005)
          .map((p) => `${p.name.replace(`${variant.label}-drain `, '')} ${p.perUnitMs}`)
          .join(', ')}`,
    );
    return result;
  });
}
