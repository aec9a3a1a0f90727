/**
 * The fault suite's stage: a private PostgreSQL and a private Redis (AOF on) per run, a database
 * and queue prefix per scenario, the compiled service started as real processes (`npm run build`
 * first), a steady command load over HTTP, and the checks every scenario reports.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { expect } from 'chai';
import pg from 'pg';
import { loadConfig } from '../../src/platform/config.js';
import { withDatabase } from '../../src/platform/db/database-admin.js';
import { signDevToken } from '../../src/platform/dev-tokens.js';
import { provisionDatabase } from '../support/database.js';
import { eventually } from '../support/http.js';
import { PrivatePostgres, PrivateRedis } from '../support/private-servers.js';
import { ServiceProcess } from '../support/service-process.js';

export { ServiceProcess };

/** `CHAOS_LONG=1` runs the durations the issue names (a minute of kills, more rounds). */
export const LONG = process.env.CHAOS_LONG === '1';

export interface Stage {
  postgres: PrivatePostgres;
  redis: PrivateRedis;
  destroy(): Promise<void>;
}

let stage: Promise<Stage> | undefined;

/** One private PostgreSQL and Redis for the whole run (scenarios take turns breaking them). */
export function chaosStage(): Promise<Stage> {
  stage ??= (async () => {
    const [postgres, redis] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start()]);
    return {
      postgres,
      redis,
      async destroy() {
        await Promise.all([postgres.destroy(), redis.destroy()]);
      },
    };
  })();
  return stage;
}

export async function destroyStage(): Promise<void> {
  if (stage) await (await stage).destroy();
}

/** A scenario's own database (migrated, one product) and queue prefix, and the env for its processes. */
export interface Scenario {
  name: string;
  env: Record<string, string>;
  db: pg.Pool;
  productId: string;
  /** The scenario's first API process (started with it). */
  api: ServiceProcess;
  customerToken: string;
  operatorToken: string;
  processes: ServiceProcess[];
  /** Starts the API or a worker process of this scenario (tracked, killed at the end). */
  start(kind: 'api' | 'worker', extra?: Record<string, string>): Promise<ServiceProcess>;
  close(): Promise<void>;
}

export async function openScenario(name: string, env: Record<string, string> = {}): Promise<Scenario> {
  const { postgres, redis } = await chaosStage();
  const database = `chaos_${name.replace(/\W/g, '_')}_${Date.now().toString(36)}`;
  const scenarioEnv: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: withDatabase(postgres.url(), database),
    REDIS_URL: redis.url,
    QUEUE_PREFIX: `{chaos-${database}}`,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    RATE_LIMIT_POINTS: '1000000',
    RELAY_POLL_INTERVAL: '200ms',
    JOB_LOCK_DURATION: '2s',
    PAYMENT_LATENCY: '20ms',
    SHUTDOWN_TIMEOUT_MS: '5000',
    WORKER_CONCURRENCY: '10',
    ...env,
  };
  await provisionDatabase(scenarioEnv.DATABASE_URL!, { migrate: true });
  const config = loadConfig(scenarioEnv);
  const db = new pg.Pool({ connectionString: scenarioEnv.DATABASE_URL, max: 4 });
  db.on('error', () => undefined); // PostgreSQL is stopped on purpose in some scenarios
  const admin = signDevToken(config, { sub: 'admin', tenant: 'acme', roles: ['admin'] });
  const processes: ServiceProcess[] = [];
  const scenario: Scenario = {
    name,
    env: scenarioEnv,
    db,
    productId: '',
    api: undefined as unknown as ServiceProcess,
    customerToken: signDevToken(config, {
      sub: 'ada',
      tenant: 'acme',
      roles: ['customer'],
      name: 'Ada',
      email: 'ada@example.com',
    }),
    operatorToken: signDevToken(config, { sub: 'op', tenant: 'acme', roles: ['operator'] }),
    processes,
    async start(kind, extra = {}) {
      const started = await ServiceProcess.start(kind, { ...scenarioEnv, ...extra });
      processes.push(started);
      return started;
    },
    async close() {
      await Promise.all(processes.map((process) => process.kill('SIGKILL')));
      await db.end();
    },
  };
  scenario.api = await scenario.start('api');
  const created = await post(scenario.api.url, '/v1/products', admin, {
    sku: 'CHAOS-1',
    name: 'Chaos',
    priceCents: 100,
    currency: 'EUR',
  });
  if (created.status !== 202) throw new Error(`could not create the product: ${created.status} ${JSON.stringify(created.body)}`);
  scenario.productId = created.body.productId;
  return scenario;
}

export interface HttpAnswer {
  status: number;
  body: any;
}

/** One HTTP call that never throws: a refused connection or a timeout is status 0. */
export async function post(base: string, path: string, token: string, body: unknown, headers: Record<string, string> = {}) {
  return call(base, path, token, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
}

export async function call(base: string, path: string, token: string | undefined, init: RequestInit = {}): Promise<HttpAnswer> {
  try {
    const response = await fetch(`${base}${path}`, {
      ...init,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) },
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text && /json/.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) : text,
    };
  } catch {
    return { status: 0, body: null };
  }
}

export interface LoadOptions {
  /** Where to send each command (a balancer may pick among several APIs). */
  target: () => string | undefined;
  /** Concurrent clients. */
  clients?: number;
  /** Pause between a client's commands. */
  pauseMs?: number;
  /** Retry a command that got no answer or a 5xx with the same Idempotency-Key (until accepted). */
  retry?: boolean;
}

export interface Sent {
  key: string;
  orderId?: string;
  commandId?: string;
  /** Every HTTP status this command got, in order (0: no answer). */
  statuses: number[];
}

/** A steady stream of `POST /v1/orders`, each with its own Idempotency-Key. */
export class CommandLoad {
  readonly sent: Sent[] = [];
  /** Requests on the wire right now. */
  inFlight = 0;
  private running = true;
  private readonly clients: Promise<void>[];

  constructor(
    private readonly scenario: Scenario,
    private readonly options: LoadOptions,
  ) {
    this.clients = Array.from({ length: options.clients ?? 3 }, () => this.client());
  }

  get accepted(): Sent[] {
    return this.sent.filter((command) => command.orderId);
  }

  /** Commands accepted since `since` (an index into `sent`). */
  acceptedSince(since: number): number {
    return this.sent.slice(since).filter((command) => command.orderId).length;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.clients);
  }

  private async client(): Promise<void> {
    while (this.running) {
      const command: Sent = { key: randomUUID(), statuses: [] };
      this.sent.push(command);
      await this.send(command);
      await delay(this.options.pauseMs ?? 100);
    }
  }

  private async send(command: Sent): Promise<void> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const target = this.options.target();
      this.inFlight += 1;
      const answer = target
        ? await post(
            target,
            '/v1/orders',
            this.scenario.customerToken,
            { lines: [{ productId: this.scenario.productId, quantity: 1 }] },
            {
              'idempotency-key': command.key,
            },
          )
        : { status: 0, body: null };
      this.inFlight -= 1;
      command.statuses.push(answer.status);
      if (answer.status === 202) {
        command.orderId = answer.body.orderId;
        command.commandId = answer.body.commandId;
        return;
      }
      const retryable = answer.status === 0 || answer.status >= 500 || answer.status === 409;
      if (!this.options.retry || !retryable || Date.now() > deadline) return;
      await delay(200);
    }
  }
}

/** What every scenario reports. */
export interface Outcome {
  sent: number;
  accepted: number;
  lost: number;
  duplicatedReadModels: number;
  duplicatedPayments: number;
}

/**
 * Waits until every accepted order is projected and paid (the whole pipeline ran) and the counting
 * read models caught up, then compares each effect with the write side, where a redelivered job
 * applied twice would show:
 * lost = accepted but missing from the write side or order_view (or never paid), or paid orders
 * the counting read models never counted;
 * duplicated read models = counts above the write side's (customer_summary orders, paid orders and
 * lifetime value; daily_sales orders and revenue) plus order_view histories that repeat a status;
 * duplicated payments = orders with more than one OrderPaid event or a paid transition recorded twice.
 */
export async function settle(
  scenario: Scenario,
  load: CommandLoad,
  timeoutMs = 120_000,
): Promise<Outcome & { settledMs: number }> {
  const accepted = load.accepted.map((command) => command.orderId!);
  const started = Date.now();
  const effects = () => effectsOf(scenario.db, accepted);
  await eventually(
    async () => {
      const state = await effects();
      return state.projected === accepted.length && state.summarizedPaid >= state.paid && state.sold >= state.paid;
    },
    timeoutMs,
    `all ${accepted.length} accepted orders projected, paid and counted`,
  ).catch(() => undefined); // what is missing is counted below as lost
  const settledMs = Date.now() - started;
  const state = await effects();
  const over = (counted: number, actual: number) => Math.max(0, counted - actual);
  // Every chaos order has one line of the same product: surplus money is a number of orders.
  const orderCents = state.paid ? state.paidCents / state.paid : 1;
  return {
    sent: load.sent.length,
    accepted: accepted.length,
    lost: Math.max(
      accepted.length - Math.min(state.durable, state.projected),
      state.paid - state.summarizedPaid,
      state.paid - state.sold,
    ),
    duplicatedReadModels:
      over(state.summarized, state.orders) +
      over(state.summarizedPaid, state.paid) +
      Math.round(over(state.lifetimeCents, state.paidCents) / orderCents) +
      over(state.sold, state.paid) +
      Math.round(over(state.revenueCents, state.paidCents) / orderCents) +
      state.repeatedHistories,
    duplicatedPayments: state.paidTwice + state.paidTransitionsTwice,
    settledMs,
  };
}

interface Effects {
  durable: number;
  projected: number;
  orders: number;
  paid: number;
  paidCents: number;
  summarized: number;
  summarizedPaid: number;
  lifetimeCents: number;
  sold: number;
  revenueCents: number;
  repeatedHistories: number;
  paidTwice: number;
  paidTransitionsTwice: number;
}

async function effectsOf(db: pg.Pool, accepted: string[]): Promise<Effects> {
  const repeatsStatus = (column: string) =>
    `exists (select 1 from jsonb_array_elements(${column}) entry group by entry->>'status' having count(*) > 1)`;
  const { rows } = await db.query<Effects>(
    `select
       (select count(*)::int from orders where id = any($1::uuid[])) as durable,
       (select count(*)::int from order_view where id = any($1::uuid[]) and status = 'paid') as projected,
       (select count(*)::int from orders) as orders,
       (select count(*)::int from orders where status = 'paid') as paid,
       (select coalesce(sum(total_cents), 0)::int from orders where status = 'paid') as "paidCents",
       (select coalesce(sum(orders_count), 0)::int from customer_summary) as summarized,
       (select coalesce(sum((count_by_status->>'paid')::int), 0)::int from customer_summary) as "summarizedPaid",
       (select coalesce(sum(value::bigint), 0)::int from customer_summary, jsonb_each_text(lifetime_value)) as "lifetimeCents",
       (select coalesce(sum(orders_count), 0)::int from daily_sales) as sold,
       (select coalesce(sum(revenue_cents), 0)::int from daily_sales) as "revenueCents",
       (select count(*)::int from order_view where ${repeatsStatus('status_history')}) as "repeatedHistories",
       (select count(*)::int from (select aggregate_id from outbox_events where type = 'OrderPaid'
          group by aggregate_id having count(*) > 1) twice) as "paidTwice",
       (select count(*)::int from orders where ${repeatsStatus('status_history')}) as "paidTransitionsTwice"`,
    [accepted],
  );
  return rows[0]!;
}

/** The guarantee every scenario checks: nothing accepted is lost, nothing is applied twice. */
export function expectNothingLostOrDoubled(outcome: Outcome): void {
  expect(outcome.lost, 'accepted commands lost').to.equal(0);
  expect(outcome.duplicatedReadModels, 'read-model effects applied twice').to.equal(0);
  expect(outcome.duplicatedPayments, 'payments applied twice').to.equal(0);
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
