import pg from 'pg';
import type { Logger } from '../logger.js';

/** The notifier's session in pg_stat_activity. */
export const NOTIFIER_SESSION = 'after-commit-notify';
/** Announcements waiting beyond this are dropped, oldest first (their listeners have a bound of their own). */
const MAX_WAITING = 10_000;

/**
 * NOTIFY sent after a commit, on a session of its own, instead of inside the committing
 * transaction. PostgreSQL takes one cluster-wide lock for a transaction that NOTIFYs and holds it
 * through that commit's WAL flush, so every NOTIFYing commit flushes alone, queued behind the
 * others: no group commit (test/bench/notify-commit.ts shows it: 200 commits/s with a NOTIFY each
 * wait 0.3-0.5 s at the median on this machine, 9-18 ms without). Here the NOTIFY is a transaction
 * of its own that writes nothing and commits with `synchronous_commit = off`, so it holds the lock
 * for microseconds, and everything asked for while one is under way goes out in the next, at
 * most one in flight per process.
 *
 * Best effort, at most once: what is waiting when the process dies is lost, so every listener
 * needs a bound of its own (the relay polls; the order cache's rows expire). While PostgreSQL is
 * out of reach announcements wait, are retried, and the oldest are dropped past MAX_WAITING.
 */
export class Notifier {
  private readonly waiting = new Map<string, [channel: string, payload: string]>();
  private session: pg.Client | undefined;
  private sending: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private retryDelayMs = 200;
  private closed = false;
  private dropped = 0;

  constructor(
    private readonly settings: { databaseUrl: string },
    private readonly logger: Logger,
  ) {}

  notify(channel: string, payload = ''): void {
    if (this.closed) return;
    const key = `${channel}\u0000${payload}`;
    this.waiting.delete(key);
    this.waiting.set(key, [channel, payload]);
    if (this.waiting.size > MAX_WAITING) {
      this.waiting.delete(this.waiting.keys().next().value!);
      if (this.dropped++ === 0) this.logger.warn('after-commit NOTIFYs are being dropped: PostgreSQL has not taken them');
    }
    this.send();
  }

  /** Resolves once nothing waits (tests), or after the current attempt failed. */
  async idle(): Promise<void> {
    while (this.sending) await this.sending;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.idle();
    await this.session?.end().catch(() => undefined);
    this.session = undefined;
  }

  private send(): void {
    if (this.sending || this.retry || !this.waiting.size) return;
    this.sending = this.sendWaiting().finally(() => {
      this.sending = undefined;
      this.send();
    });
  }

  private async sendWaiting(): Promise<void> {
    const batch = [...this.waiting.values()];
    this.waiting.clear();
    try {
      const session = this.session ?? (await this.connect());
      await session.query('select pg_notify(channel, payload) from unnest($1::text[], $2::text[]) as n(channel, payload)', [
        batch.map(([channel]) => channel),
        batch.map(([, payload]) => payload),
      ]);
      this.retryDelayMs = 200;
      this.dropped = 0;
    } catch (error) {
      // Put them back before what came meanwhile; a broken session is replaced on the next attempt.
      const meanwhile = [...this.waiting];
      this.waiting.clear();
      for (const [channel, payload] of batch) this.waiting.set(`${channel}\u0000${payload}`, [channel, payload]);
      for (const [key, value] of meanwhile) this.waiting.set(key, value);
      this.dropSession();
      if (this.closed) return;
      this.logger.debug('after-commit NOTIFY failed; retrying', { error: (error as Error).message });
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.send();
      }, this.retryDelayMs).unref();
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, 5_000);
    }
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.settings.databaseUrl,
      application_name: NOTIFIER_SESSION,
      // A NOTIFY is a hint that its listeners can do without: its commit need not wait for the disk.
      options: '-c synchronous_commit=off',
    });
    client.on('error', () => this.session === client && this.dropSession());
    this.session = client;
    try {
      await client.connect();
    } catch (error) {
      this.dropSession();
      throw error;
    }
    return client;
  }

  private dropSession(): void {
    const session = this.session;
    this.session = undefined;
    void session?.end().catch(() => undefined);
  }
}
