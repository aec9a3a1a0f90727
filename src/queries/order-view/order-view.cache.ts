import { EventEmitter } from 'node:events';
import { LRUCache } from 'lru-cache';
import pg from 'pg';
import type { JsonBody } from '../../platform/json-body.js';
import type { Logger } from '../../platform/logger.js';
import type { OrderViewRow } from './order-view.mapper.js';
import type { OrderListDto } from './order.dto.js';

/**
 * Where order_view's changes are announced: one row, or '*' for all. The order_view projection
 * announces its own after each commit (orderViewChangePayload); the table's trigger announces
 * every other writer's on commit (migrations 20261130050000 and 20261130070000).
 */
export const ORDER_VIEW_CHANNEL = 'order_view_changed';
/** The cache's session in pg_stat_activity. */
export const ORDER_VIEW_CACHE_SESSION = 'order-view-cache';

interface Versions {
  version: number;
  customerVersion: number;
}

/** A committed change of one order_view row, with versions its row has at least. */
export interface OrderViewChange extends Versions {
  tenantId: string;
  orderId: string;
}

/** The NOTIFY payload of a change, as the trigger writes it. */
export function orderViewChangePayload(change: OrderViewChange): string {
  return JSON.stringify([change.tenantId, change.orderId, change.version, change.customerVersion]);
}

/** Taken before a read's SQL; a fill with a ticket from before a lost or new listener is refused. */
export type FillTicket = number;

/** Taken before a list's SQL: also the last change heard, so a page read before a later change of its tenant is refused. */
export interface PageTicket {
  generation: number;
  change: number;
}

interface CachedPage {
  body: JsonBody<OrderListDto>;
  tenantId: string;
  /** The last change heard before the page's SQL: a later change of its tenant voids it. */
  change: number;
}

/** Tenants whose last change is remembered; past it every page is dropped and the count starts over. */
const MAX_TENANTS = 10_000;

/**
 * order_view rows by tenant and id, in this process, so that a single read that hits costs no
 * SQL. It holds rows, never answers: the caller's ability (conditions and field rules) is applied
 * to the row on every read, so what a caller sees never depends on who filled the cache.
 *
 * It is right only while it hears every change: each changed row is announced (with its
 * versions) by a NOTIFY, and the cache LISTENs on one PostgreSQL session of its own to the
 * primary. While that session is not listening (before the first read, lost, reconnecting) the
 * cache is empty and every read goes to SQL. A fill racing a change (its SQL read the row before
 * the change; a replica that lags) is refused when the row is older than the versions the change
 * announced, or when the listener was lost or replaced since the read began.
 *
 * It also keeps list pages (`GET /v1/orders`), which are answers: each is kept under the
 * principal (tenant, id, roles) and the query it answered, so only the same caller with the same
 * query gets it. A page is void as soon as any row of its tenant changes (every change of the
 * tenant is heard, and a page cannot tell which rows would have entered it), and a fill is refused
 * when its tenant changed, or the listener was lost or replaced, after its read began. Only when
 * reads go to the primary (`pageBytes` is 0 with a replica): a lagging replica could answer a read
 * that starts after a change was heard with the rows from before it.
 *
 * The projection announces its changes just after their commit, not in it, so a projections
 * process that dies in between leaves a change unannounced: no row or page is served longer than `ttlMs`
 * after it was read, which bounds such a stale read (ORDER_CACHE_TTL).
 */
export class OrderViewCache extends EventEmitter<{ invalidated: [key: string]; listening: []; lost: [] }> {
  private readonly rows: LRUCache<string, OrderViewRow>;
  /** The newest versions announced per row, so a late fill of an older row is refused. */
  private readonly announced: LRUCache<string, Versions>;
  private readonly pages: LRUCache<string, CachedPage> | undefined;
  /** Per tenant, the number of the last change heard (counted across tenants). */
  private readonly tenantChanges = new Map<string, number>();
  private changes = 0;
  private session: pg.Client | undefined;
  private connecting = false;
  private listening = false;
  /** Bumped whenever the listener is lost or (re)starts: tickets taken before are void. */
  private generation = 0;
  private retry: NodeJS.Timeout | undefined;
  private retryDelayMs = 500;
  private closed = false;

  constructor(
    private readonly settings: { databaseUrl: string; size: number; ttlMs: number; pageBytes?: number },
    private readonly logger: Logger,
  ) {
    super();
    this.rows = new LRUCache({ max: Math.max(settings.size, 1), ttl: settings.ttlMs });
    this.announced = new LRUCache({ max: Math.max(settings.size, 1) * 2, ttl: 10 * 60_000 });
    const pageBytes = settings.pageBytes ?? 0;
    this.pages =
      pageBytes > 0
        ? new LRUCache({
            maxSize: pageBytes,
            ttl: settings.ttlMs,
            sizeCalculation: (page, key) => page.body.bytes.length + key.length * 2 + 200,
          })
        : undefined;
  }

  get enabled(): boolean {
    return this.settings.size > 0 && !this.closed;
  }

  get size(): number {
    return this.rows.size;
  }

  get(tenantId: string, orderId: string): OrderViewRow | undefined {
    if (!this.enabled) return undefined;
    this.listen();
    return this.listening ? this.rows.get(keyOf(tenantId, orderId)) : undefined;
  }

  /** Before the SQL whose row `fill` may keep. */
  ticket(): FillTicket {
    if (this.enabled) this.listen();
    return this.listening ? this.generation : -1;
  }

  fill(ticket: FillTicket, row: OrderViewRow): void {
    if (!this.listening || ticket !== this.generation) return;
    const key = keyOf(row.tenant_id, row.id);
    const newest = this.announced.get(key);
    if (newest && (row.version < newest.version || row.customer_version < newest.customerVersion)) return;
    this.rows.set(key, row);
  }

  /** A page kept for this exact caller and query (`key`), while no order of its tenant changed since its read began. */
  getPage(key: string): JsonBody<OrderListDto> | undefined {
    if (!this.pages || this.closed) return undefined;
    this.listen();
    if (!this.listening) return undefined;
    const page = this.pages.get(key);
    if (!page || this.changeOf(page.tenantId) <= page.change) return page?.body;
    this.pages.delete(key);
    return undefined;
  }

  /** Before the SQL of a page that `fillPage` may keep. */
  pageTicket(): PageTicket | undefined {
    if (!this.pages || this.closed) return undefined;
    this.listen();
    return this.listening ? { generation: this.generation, change: this.changes } : undefined;
  }

  fillPage(ticket: PageTicket | undefined, tenantId: string, key: string, body: JsonBody<OrderListDto>): void {
    if (!ticket || !this.pages || !this.listening || ticket.generation !== this.generation) return;
    this.pages.set(key, { body, tenantId, change: ticket.change });
  }

  get pageCount(): number {
    return this.pages?.size ?? 0;
  }

  private changeOf(tenantId: string): number {
    return this.tenantChanges.get(tenantId) ?? 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.stopListening();
    await this.session?.end().catch(() => undefined);
    this.session = undefined;
  }

  /** Starts the session on the first read; after a failure, a timer starts the next attempt. */
  private listen(): void {
    if (this.listening || this.connecting || this.closed || this.retry) return;
    this.connecting = true;
    void this.connect().finally(() => (this.connecting = false));
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.settings.databaseUrl, application_name: ORDER_VIEW_CACHE_SESSION });
    const lost = (error?: Error) => {
      if (this.session !== client) return;
      this.session = undefined;
      this.stopListening();
      this.retryLater();
      this.logger.warn('order cache listener lost; reads go to PostgreSQL until it is back', { error: error?.message });
      void client.end().catch(() => undefined);
      this.emit('lost');
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => this.changed(message.payload ?? '*'));
    this.session = client;
    try {
      await client.connect();
      await client.query(`listen ${ORDER_VIEW_CHANNEL}`);
    } catch (error) {
      this.session = undefined;
      this.retryLater();
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, 30_000);
      this.logger.debug('order cache listener could not start; reads go to PostgreSQL', { error: (error as Error).message });
      await client.end().catch(() => undefined);
      return;
    }
    if (this.closed || this.session !== client) return void client.end().catch(() => undefined);
    this.retryDelayMs = 500;
    this.rows.clear();
    this.generation++;
    this.listening = true;
    this.emit('listening');
  }

  private retryLater(): void {
    if (this.closed) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.listen();
    }, this.retryDelayMs).unref();
  }

  private stopListening(): void {
    this.listening = false;
    this.generation++;
    this.rows.clear();
    this.pages?.clear();
  }

  private tenantChanged(tenantId: string): void {
    if (!this.pages) return;
    if (this.tenantChanges.size >= MAX_TENANTS && !this.tenantChanges.has(tenantId)) {
      // Forgetting a tenant's last change would revive its pages: drop them all instead.
      this.tenantChanges.clear();
      this.pages.clear();
      this.generation++;
    }
    this.tenantChanges.set(tenantId, ++this.changes);
  }

  private changed(payload: string): void {
    if (payload === '*') {
      this.rows.clear();
      this.pages?.clear();
      this.generation++;
      this.emit('invalidated', '*');
      return;
    }
    const [tenantId, orderId, version, customerVersion] = JSON.parse(payload) as [string, string, number, number];
    this.tenantChanged(tenantId);
    const key = keyOf(tenantId, orderId);
    this.rows.delete(key);
    const known = this.announced.get(key);
    this.announced.set(key, {
      version: Math.max(version, known?.version ?? 0),
      customerVersion: Math.max(customerVersion, known?.customerVersion ?? 0),
    });
    this.emit('invalidated', key);
  }
}

function keyOf(tenantId: string, orderId: string): string {
  return `${tenantId}\u0000${orderId}`;
}
