import { EventEmitter } from 'node:events';
import { LRUCache } from 'lru-cache';
import pg from 'pg';
import type { Logger } from '../../platform/logger.js';
import type { OrderViewRow } from './order-view.mapper.js';

/** What order_view's trigger announces on commit (migration 20261130050000): one row, or '*' for all. */
export const ORDER_VIEW_CHANNEL = 'order_view_changed';
/** The cache's session in pg_stat_activity. */
export const ORDER_VIEW_CACHE_SESSION = 'order-view-cache';

interface Versions {
  version: number;
  customerVersion: number;
}

/** Taken before a read's SQL; a fill with a ticket from before a lost or new listener is refused. */
export type FillTicket = number;

/**
 * order_view rows by tenant and id, in this process, so that a single read that hits costs no
 * SQL. It holds rows, never answers: the caller's ability (conditions and field rules) is applied
 * to the row on every read, so what a caller sees never depends on who filled the cache.
 *
 * It is right only while it hears every change: order_view's trigger NOTIFYs each changed row
 * (with its versions) on commit, and the cache LISTENs on one PostgreSQL session of its own to the
 * primary. While that session is not listening (before the first read, lost, reconnecting) the
 * cache is empty and every read goes to SQL. A fill racing a change (its SQL read the row before
 * the change; a replica that lags) is refused when the row is older than the versions the change
 * announced, or when the listener was lost or replaced since the read began.
 */
export class OrderViewCache extends EventEmitter<{ invalidated: [key: string]; listening: []; lost: [] }> {
  private readonly rows: LRUCache<string, OrderViewRow>;
  /** The newest versions announced per row, so a late fill of an older row is refused. */
  private readonly announced: LRUCache<string, Versions>;
  private session: pg.Client | undefined;
  private connecting = false;
  private listening = false;
  /** Bumped whenever the listener is lost or (re)starts: tickets taken before are void. */
  private generation = 0;
  private retry: NodeJS.Timeout | undefined;
  private retryDelayMs = 500;
  private closed = false;

  constructor(
    private readonly settings: { databaseUrl: string; size: number },
    private readonly logger: Logger,
  ) {
    super();
    this.rows = new LRUCache({ max: Math.max(settings.size, 1) });
    this.announced = new LRUCache({ max: Math.max(settings.size, 1) * 2, ttl: 10 * 60_000 });
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
  }

  private changed(payload: string): void {
    if (payload === '*') {
      this.rows.clear();
      this.generation++;
      this.emit('invalidated', '*');
      return;
    }
    const [tenantId, orderId, version, customerVersion] = JSON.parse(payload) as [string, string, number, number];
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
