import type { QueryResult } from 'pg';
import type { Orm } from './orm.js';

/** One SQL statement with `?` placeholders, as `em.execute` takes it. */
export interface Statement {
  sql: string;
  params: readonly unknown[];
}

/**
 * Runs `statements` as one transaction in one round trip and returns each statement's rows: BEGIN,
 * the statements and COMMIT sent as one simple query, on a connection of MikroORM's own pool to the
 * primary, with the values inlined by MikroORM's own formatting (as `em.execute` sends them). Each
 * statement still runs with a snapshot of its own, taken when it starts. When one fails,
 * PostgreSQL skips the rest (COMMIT included): the transaction is rolled back and the error
 * thrown, so all of them or none commit.
 *
 * For a hot path of several small statements: a MikroORM transaction costs a round trip per
 * statement plus BEGIN and COMMIT, and each round trip costs the process a socket write and a
 * wake-up.
 */
export async function transactionInOneRoundTrip(
  orm: Orm,
  statements: readonly Statement[],
): Promise<Array<Array<Record<string, unknown>>>> {
  const platform = orm.em.getPlatform();
  const text = ['begin', ...statements.map(({ sql, params }) => platform.formatQuery(sql, params)), 'commit'].join(';\n');
  const pool = await orm.em.getConnection('write').getNativeClient();
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    // Several statements in one query: pg answers with one result per statement.
    const results = (await client.query(text)) as unknown as QueryResult[];
    return results.slice(1, -1).map((result) => result.rows as Array<Record<string, unknown>>);
  } catch (error) {
    // The statements after the failing one were skipped, and the transaction is open but aborted.
    await client.query('rollback').catch((cause: unknown) => {
      broken = cause instanceof Error ? cause : new Error(String(cause));
    });
    throw error;
  } finally {
    // A connection whose rollback failed is discarded, not handed to the next caller.
    client.release(broken);
  }
}
