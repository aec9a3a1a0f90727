import {
  checkClean,
  createProduct,
  customerTokens,
  orderBody,
  sleep,
  startProject,
  withClient,
  type BenchContext,
} from '../lib/context.js';
import type { RunningService } from '../lib/service.js';
import { closedLoop, type ClosedLoopResult } from '../lib/load.js';
import { cpuWindow, type CpuPerUnit } from '../lib/processes.js';
import { pairedRatios, round, type RatioSummary } from '../lib/stats.js';
import { workWindow, type WorkPerUnit } from '../lib/work.js';

export interface PipelineRun {
  label: string;
  /** Orders committed during the measured load (after the warm-up); each must end paid and in every read model exactly once. */
  orders: number;
  /** Orders fully settled per second, from the first request to the last order settled. */
  ordersPerSecond: number;
  settleAfterLoadMs: number;
  /** Of the orders committed when the load ended, how many were not yet paid, in order_view as paid, in customer_summary and in daily_sales. */
  behindAtLoadEnd: { unpaid: number; unviewed: number; unsummarized: number; unsold: number };
  commands: ClosedLoopResult;
  processes: Array<{ name: string; peakRssMb: number; coldStartMs: number }>;
  /** Each process's CPU time from the first request until every order settled, per settled order. */
  cpu: CpuPerUnit[];
  /** Redis commands, PostgreSQL transactions and PostgreSQL backend CPU per settled order (same window). */
  work: WorkPerUnit;
}

interface Settlement {
  orders: number;
  paid: number;
  viewed: number;
  summarized: number;
  sold: number;
}

/**
 * One pipeline run: a fresh deployment (own database and queue prefix), `pipelineWarmupSeconds` of
 * orders left to settle (not counted), then `pipelineSeconds` of
 * `POST /v1/orders` from 50 customers, then the wait until every committed order is paid, in
 * order_view as paid, counted once in customer_summary and once in daily_sales. Duplicated
 * effects (an order counted twice, two payments, a doubled status history) make the run invalid.
 */
export async function pipelineRun(
  context: BenchContext,
  label: string,
  workerRoles: string[],
  dir?: string,
): Promise<PipelineRun> {
  const service = await startProject(context, label, workerRoles, dir);
  try {
    const { commandLoad, warmed } = await warmedOrderLoad(context, service, `${label} pipeline`);
    const work = await workWindow(context.redisUrl, service.databaseUrl);
    const cpu = cpuWindow([service.api, ...service.workers]);
    const started = performance.now();
    const commands = await commandLoad(context.settings.pipelineSeconds, 'commands');
    const loadEnded = performance.now();
    const atLoadEnd = await settlementCounts(service.databaseUrl);
    const settled = await waitUntilSettled(service.databaseUrl, 180_000);
    const finished = performance.now();
    const measuredOrders = settled.counts.orders - warmed.counts.orders;
    const cpuPerOrder = cpu.end(measuredOrders);
    const workPerOrder = await work.end(measuredOrders);
    if (!settled.ok) context.invalid(`${label}: not settled after 180 s: ${JSON.stringify(settled.counts)}`);
    await checkAfterRun(context, label, service);
    const result = {
      label,
      orders: measuredOrders,
      ordersPerSecond: round(measuredOrders / ((finished - started) / 1000)),
      settleAfterLoadMs: Math.round(finished - loadEnded),
      behindAtLoadEnd: {
        unpaid: atLoadEnd.orders - atLoadEnd.paid,
        unviewed: atLoadEnd.orders - atLoadEnd.viewed,
        unsummarized: atLoadEnd.orders - atLoadEnd.summarized,
        unsold: atLoadEnd.orders - atLoadEnd.sold,
      },
      commands,
      cpu: cpuPerOrder,
      work: workPerOrder,
    };
    return { ...result, processes: await service.stop() };
  } catch (error) {
    await service.stop().catch(() => undefined);
    throw error;
  }
}

/**
 * `POST /v1/orders` from 50 customers at the deployment, closed loop, after a warm-up of
 * `pipelineWarmupSeconds` of the same orders left to settle (not counted: `warmed` counts them).
 * Every process of a fresh deployment compiles its hot paths under the first load, and a layout
 * with more processes would pay that once per process; production processes run for hours, so the
 * measure starts once the warm-up's orders have all settled.
 */
export async function warmedOrderLoad(context: BenchContext, service: RunningService, name: string) {
  const productId = await createProduct(context, service);
  const targets = customerTokens(context, 50).map((token) => ({ token, path: '/v1/orders' }));
  const commandLoad = async (seconds: number, what: string) =>
    checkClean(
      context,
      `${name} ${what}`,
      await closedLoop({
        url: service.url,
        seconds,
        connections: context.settings.connections,
        targets,
        body: orderBody(productId),
      }),
    );
  await commandLoad(context.settings.pipelineWarmupSeconds, 'warm-up');
  const warmed = await waitUntilSettled(service.databaseUrl, 180_000);
  if (!warmed.ok) context.invalid(`${name}: warm-up not settled after 180 s: ${JSON.stringify(warmed.counts)}`);
  return { commandLoad, warmed };
}

/** Duplicated effects, or a process that exited, make the run invalid. */
export async function checkAfterRun(context: BenchContext, label: string, service: RunningService): Promise<void> {
  const duplicates = await duplicatedEffects(service.databaseUrl);
  if (duplicates.length) context.invalid(`${label}: duplicated effects: ${duplicates.join('; ')}`);
  for (const proc of [service.api, ...service.workers]) {
    if (proc.exited()) context.invalid(`${label}: ${proc.name} exited during the run`);
  }
}

const SETTLEMENT = `
  select (select count(*)::int from orders) as orders,
         (select count(*)::int from orders where status = 'paid') as paid,
         (select count(*)::int from order_view where status = 'paid') as viewed,
         (select coalesce(sum(orders_count), 0)::int from customer_summary) as summarized,
         (select coalesce(sum(orders_count), 0)::int from daily_sales) as sold`;

export async function settlementCounts(databaseUrl: string): Promise<Settlement> {
  return withClient(databaseUrl, async (client) => (await client.query<Settlement>(SETTLEMENT)).rows[0]!);
}

export async function waitUntilSettled(
  databaseUrl: string,
  timeoutMs: number,
  pollMs = 100,
): Promise<{ ok: boolean; counts: Settlement }> {
  const deadline = Date.now() + timeoutMs;
  return withClient(databaseUrl, async (client) => {
    for (;;) {
      const counts = (await client.query<Settlement>(SETTLEMENT)).rows[0]!;
      const { orders, paid, viewed, summarized, sold } = counts;
      if (orders === paid && orders === viewed && orders === summarized && orders === sold) return { ok: true, counts };
      if (summarized > orders || sold > orders || Date.now() > deadline) return { ok: false, counts };
      await sleep(pollMs);
    }
  });
}

async function duplicatedEffects(databaseUrl: string): Promise<string[]> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ payments: number; histories: number; views: number }>(`
      select (select count(*)::int from (select aggregate_id from outbox_events where type = 'OrderPaid'
                group by aggregate_id having count(*) > 1) twice) as payments,
             (select count(*)::int from order_view where jsonb_array_length(status_history) <> 2) as histories,
             (select count(*)::int - count(distinct id)::int from order_view) as views`);
    const { payments, histories, views } = rows[0]!;
    return [
      ...(payments ? [`${payments} orders paid twice`] : []),
      ...(histories ? [`${histories} order views without exactly placed+paid in their history`] : []),
      ...(views ? [`${views} duplicated order views`] : []),
    ];
  });
}

export interface PipelineComparison {
  name: string;
  a: string;
  b: string;
  pairs: Array<{ a: PipelineRun; b: PipelineRun }>;
  ratio: RatioSummary;
}

/** Interleaved pairs of two pipeline variants (A then B, then B then A, ...). */
export async function comparePipelines(
  context: BenchContext,
  name: string,
  a: { label: string; roles: string[]; dir?: string | undefined },
  b: { label: string; roles: string[]; dir?: string | undefined },
): Promise<PipelineComparison> {
  return compareLayouts(context, name, a, b, async (variant) => {
    context.progress(
      `${name}: ${variant.label} (${variant.roles.join(' | ')}), after ${context.settings.pipelineWarmupSeconds}s of warm-up`,
    );
    const result = await pipelineRun(context, variant.label, variant.roles, variant.dir);
    context.progress(
      `${name}:   ${result.orders} orders, ${result.ordersPerSecond} settled/s (settled ${result.settleAfterLoadMs} ms after the load, ` +
        `behind at its end: ${Object.entries(result.behindAtLoadEnd)
          .map(([what, count]) => `${what} ${count}`)
          .join(', ')}), ` +
        `CPU ms/order ${result.cpu.map((p) => `${p.name.replace(`${variant.label} `, '')} ${p.perUnitMs}`).join(', ')}, ` +
        `event-loop wake-ups/preemptions per order ${result.cpu
          .map((p) => `${p.name.replace(`${variant.label} `, '')} ${p.wakeupsPerUnit}/${p.preemptionsPerUnit}`)
          .join(', ')}, ` +
        `PostgreSQL ${result.work.postgresCpuMsPerUnit} ms/order in ${result.work.transactionsPerUnit} transactions, ` +
        `Redis ${result.work.redisCommandsPerUnit} commands/order (${Object.entries(result.work.topRedisCommands)
          .map(([name, calls]) => `${name} ${calls}`)
          .join(', ')}), ` +
        `peak RSS ${result.processes.map((p) => `${p.name.replace(`${variant.label} `, '')} ${p.peakRssMb} MB`).join(', ')}`,
    );
    return result;
  });
}

/**
 * Interleaved pairs of two variants (A then B, then B then A, ...), `context.settings.pairs` of
 * them, compared by the median of the pairs' ratios of `ordersPerSecond`.
 */
export async function compareLayouts<V extends { label: string }, R extends { ordersPerSecond: number }>(
  context: BenchContext,
  name: string,
  a: V,
  b: V,
  run: (variant: V) => Promise<R>,
): Promise<{ name: string; a: string; b: string; pairs: Array<{ a: R; b: R }>; ratio: RatioSummary }> {
  const pairs: Array<{ a: R; b: R }> = [];
  for (let pair = 0; pair < context.settings.pairs; pair++) {
    context.progress(`${name}: pair ${pair + 1}/${context.settings.pairs}`);
    const runs = new Map<V, R>();
    for (const variant of pair % 2 === 0 ? [a, b] : [b, a]) runs.set(variant, await run(variant));
    pairs.push({ a: runs.get(a)!, b: runs.get(b)! });
  }
  return {
    name,
    a: a.label,
    b: b.label,
    pairs,
    ratio: pairedRatios(pairs.map((pair) => ({ a: pair.a.ordersPerSecond, b: pair.b.ordersPerSecond }))),
  };
}
