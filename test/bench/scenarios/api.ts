import { dropDatabase, withDatabase } from '../../../src/platform/db/database-admin.js';
import { uniqueId } from '../../support/database.js';
import { AUDIENCE, ISSUER } from '../lib/environment.js';
import {
  TENANT,
  checkClean,
  createProduct,
  customerTokens,
  orderBody,
  rawDatabase,
  sleep,
  startProject,
  startRaw,
  withClient,
  type BenchContext,
} from '../lib/context.js';
import { closedLoop, type ClosedLoopResult } from '../lib/load.js';
import { cpuWindow } from '../lib/processes.js';
import { pairedRatios, type RatioSummary } from '../lib/stats.js';

/** A closed-loop run and the CPU time (utime + stime) its server process spent per request in it. */
export type ApiRun = ClosedLoopResult & { cpuMsPerRequest: number };

export interface ApiComparison {
  endpoint: string;
  pairs: Array<{ project: ApiRun; raw: ApiRun }>;
  throughputRatio: RatioSummary;
  /** raw p99 / project p99 per pair: above 1 means the project's tail is shorter. */
  p99Ratio: RatioSummary;
  /** project CPU ms per request / raw CPU ms per request, per pair (a figure the machine's load hardly moves). */
  cpuRatio: RatioSummary;
}

const CUSTOMERS_WITH_ORDERS = 20;
const ORDERS_EACH = 21; // a full list page of 20 plus one, so every page has a next cursor

/**
 * The compiled API alone (its worker stopped once the read model is seeded) against the raw
 * Express + pg + jsonwebtoken server on a copy of the same data, endpoint by endpoint, in
 * interleaved pairs: project then raw, then raw then project, and so on.
 */
export async function apiScenario(context: BenchContext): Promise<{ comparisons: ApiComparison[]; memory: unknown }> {
  const { settings } = context;
  context.progress('api: starting the service (API + worker) to seed the read model');
  const service = await startProject(context, 'project', ['all']);
  const rawDb = `bench_raw_${uniqueId()}`;
  let raw: Awaited<ReturnType<typeof startRaw>> | undefined;
  try {
    const productId = await createProduct(context, service);
    const seeded = customerTokens(context, CUSTOMERS_WITH_ORDERS);
    await seedOrders(service.url, seeded, productId);
    await waitForReadModel(service.databaseUrl, CUSTOMERS_WITH_ORDERS * ORDERS_EACH);
    // The API alone from here on: the worker would otherwise share the two cores.
    await service.workers[0]!.stop();

    const rawUrl = await rawDatabase(context, rawDb);
    await copyTables(service.databaseUrl, rawUrl, ['products', 'customers', 'order_view']);
    raw = await startRaw(context, 'raw api', 'raw-api', {
      DATABASE_URL: rawUrl,
      JWT_PUBLIC_KEY: context.publicKeyPem,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
    });
    const rawOrigin = `http://127.0.0.1:${raw.port}`;

    const firstOrders = await withClient(service.databaseUrl, async (client) => {
      const { rows } = await client.query<{ customer_id: string; id: string }>(
        'select distinct on (customer_id) customer_id, id from order_view order by customer_id, placed_at',
      );
      return new Map(rows.map((row) => [row.customer_id, row.id]));
    });
    const body = orderBody(productId);
    const endpoints = [
      {
        endpoint: 'POST /v1/orders',
        body,
        targets: customerTokens(context, 50).map((token) => ({ token, path: '/v1/orders' })),
      },
      {
        endpoint: 'GET /v1/orders/{id}',
        targets: seeded.map((token, i) => ({ token, path: `/v1/orders/${firstOrders.get(`c${i}`)}` })),
      },
      {
        endpoint: 'GET /v1/orders?limit=20',
        targets: seeded.map((token) => ({ token, path: '/v1/orders?limit=20' })),
      },
    ];

    const comparisons: ApiComparison[] = [];
    for (const { endpoint, body: payload, targets } of endpoints) {
      const load = (origin: string, seconds: number) =>
        closedLoop({ url: origin, seconds, connections: settings.connections, targets, ...(payload ? { body: payload } : {}) });
      context.progress(`api: ${endpoint}: warm-up ${settings.warmupSeconds}s each`);
      checkClean(context, `${endpoint} warm-up (project)`, await load(service.url, settings.warmupSeconds));
      checkClean(context, `${endpoint} warm-up (raw)`, await load(rawOrigin, settings.warmupSeconds));
      const pairs: ApiComparison['pairs'] = [];
      for (let pair = 0; pair < settings.pairs; pair++) {
        const order = pair % 2 === 0 ? (['project', 'raw'] as const) : (['raw', 'project'] as const);
        const results: Partial<Record<'project' | 'raw', ApiRun>> = {};
        for (const side of order) {
          await sleep(500);
          const cpu = cpuWindow([side === 'project' ? service.api : raw.proc]);
          const result = checkClean(
            context,
            `${endpoint} ${side}`,
            await load(side === 'project' ? service.url : rawOrigin, settings.seconds),
          );
          results[side] = { ...result, cpuMsPerRequest: cpu.end(result.total)[0]!.perUnitMs };
        }
        const { project, raw: baseline } = results as Record<'project' | 'raw', ApiRun>;
        pairs.push({ project, raw: baseline });
        context.progress(
          `api: ${endpoint} pair ${pair + 1}/${settings.pairs}: project ${project.requestsPerSecond} req/s p99 ${project.p99Ms} ms ` +
            `${project.cpuMsPerRequest} CPU ms/req, raw ${baseline.requestsPerSecond} req/s p99 ${baseline.p99Ms} ms ` +
            `${baseline.cpuMsPerRequest} CPU ms/req -> ${(project.requestsPerSecond / baseline.requestsPerSecond).toFixed(2)}x`,
        );
      }
      comparisons.push({
        endpoint,
        pairs,
        throughputRatio: pairedRatios(
          pairs.map(({ project, raw: r }) => ({ a: project.requestsPerSecond, b: r.requestsPerSecond })),
        ),
        p99Ratio: pairedRatios(pairs.map(({ project, raw: r }) => ({ a: r.p99Ms, b: project.p99Ms }))),
        cpuRatio: pairedRatios(pairs.map(({ project, raw: r }) => ({ a: project.cpuMsPerRequest, b: r.cpuMsPerRequest }))),
      });
    }
    return { comparisons, memory: { apiPeakRssMb: service.api.peakRssMb(), rawApiPeakRssMb: raw.proc.peakRssMb() } };
  } finally {
    await raw?.proc.stop();
    await service.stop();
    await dropDatabase(withDatabase(context.serverDatabaseUrl, rawDb));
  }
}

/** 21 orders for each customer, ten requests at a time, through the real API. */
export async function seedOrders(url: string, customerTokensList: string[], productId: string): Promise<void> {
  const jobs = customerTokensList.flatMap((token) => Array.from({ length: ORDERS_EACH }, () => token));
  const place = async () => {
    for (let token = jobs.pop(); token; token = jobs.pop()) {
      const response = await fetch(`${url}/v1/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: orderBody(productId),
      });
      if (response.status !== 202) throw new Error(`seeding an order answered ${response.status}`);
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 10 }, place));
}

/** Until `expected` orders of the bench tenant are in order_view (180 s at most). */
export async function waitForReadModel(databaseUrl: string, expected: number): Promise<void> {
  const deadline = Date.now() + 180_000;
  await withClient(databaseUrl, async (client) => {
    for (;;) {
      const { rows } = await client.query<{ n: number }>('select count(*)::int as n from order_view where tenant_id = $1', [
        TENANT,
      ]);
      if (rows[0]!.n >= expected) return;
      if (Date.now() > deadline) throw new Error(`only ${rows[0]!.n} of ${expected} seeded orders reached the read model`);
      await sleep(200);
    }
  });
}

/** Copies rows between two databases with the same schema (the raw baseline reads the same data). */
async function copyTables(fromUrl: string, toUrl: string, tables: string[]): Promise<void> {
  await withClient(fromUrl, (from) =>
    withClient(toUrl, async (to) => {
      for (const table of tables) {
        const { rows } = await from.query<{ data: unknown }>(`select coalesce(json_agg(t), '[]') as data from ${table} t`);
        await to.query(`insert into ${table} select * from json_populate_recordset(null::${table}, $1::json)`, [
          JSON.stringify(rows[0]!.data),
        ]);
      }
    }),
  );
}
