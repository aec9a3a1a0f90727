import pg from 'pg';
import { NOTIFIER_SESSION } from '../../src/platform/db/notifier.js';

/**
 * The SQL statements this process's PostgreSQL clients send while `work` runs (every pool and
 * session of the service under test: they all go through `pg.Client`), except the after-commit
 * NOTIFYs (src/platform/db/notifier.ts): sent on a session of their own once the work committed,
 * whenever that session gets to them, they are no round trip of the work's.
 */
export async function statementsDuring(work: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (
    this: pg.Client & { connectionParameters?: { application_name?: string } },
    ...args: unknown[]
  ) {
    const config = args[0] as string | { text: string };
    if (this.connectionParameters?.application_name !== NOTIFIER_SESSION)
      sent.push(typeof config === 'string' ? config : config.text);
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    await work();
  } finally {
    pg.Client.prototype.query = query;
  }
  return sent;
}

/**
 * The statements without the PREPAREs among them: a connection prepares each statement text the
 * first time it runs it (src/platform/db/one-round-trip.ts), once per connection, not once per
 * command or batch.
 */
export function withoutPrepares(statements: readonly string[]): string[] {
  return statements.filter((sql) => !/^\s*prepare\s/i.test(sql));
}
