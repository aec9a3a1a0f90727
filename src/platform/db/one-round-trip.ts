import { createHash } from 'node:crypto';
import type { Platform } from '@mikro-orm/core';
import pg, { type PoolClient, type QueryResult } from 'pg';
import { sendShowing } from '../telemetry/query-text.js';
import { unlessRecorded } from '../telemetry/unrecorded.js';
import type { Orm } from './orm.js';

/** One SQL statement with `?` placeholders, as `em.execute` takes it. */
export interface Statement {
  sql: string;
  params: readonly unknown[];
}

/**
 * At most this many statements are prepared on one connection; any further statement text runs
 * inlined. The texts come from code (a projection's statement per event type), so a few; the cap
 * only bounds a projection that writes its SQL text per event.
 */
export const MAX_PREPARED_PER_CONNECTION = 64;

/** What each pooled connection has prepared, by statement name (a connection that is replaced takes its set with it). */
const preparedOn = new WeakMap<PoolClient, Set<string>>();

/**
 * indeterminate_datatype, ambiguous_parameter, datatype_mismatch, syntax_error (PREPARE takes only
 * SELECT, INSERT, UPDATE, DELETE, MERGE and VALUES): the text itself cannot be prepared.
 */
const NEVER_PREPARABLE = new Set(['42P18', '42P08', '42804', '42601']);

/** invalid_sql_statement_name: an EXECUTE found no such prepared statement (someone ran DEALLOCATE or DISCARD). */
const NOT_PREPARED = '26000';

/** duplicate_prepared_statement: a PREPARE found the name taken in a session this process never prepared it in. */
const ALREADY_PREPARED = '42P05';

/**
 * The pools (MikroORM's, one per database URL) found to reach PostgreSQL through a transaction
 * pooler (PgBouncer in transaction mode, as `k8s/` runs one): the pooler runs each transaction on
 * whichever server session is free, so a statement prepared in one is missing from the next (26000),
 * or a name this pool never prepared in a session is taken there (42P05). SQL-level prepared
 * statements cannot work through it: such a pool sends every statement inlined from then on.
 */
const behindPooler = new WeakSet<object>();

/** Whether `orm`'s pool still sends prepared statements (false once a transaction pooler showed). */
export async function sendsPreparedStatements(orm: Orm): Promise<boolean> {
  return !behindPooler.has(await orm.em.getConnection('write').getNativeClient());
}

/**
 * Runs `statements` as one transaction in one round trip and returns each statement's rows: BEGIN,
 * the statements and COMMIT sent as one simple query, on a connection of MikroORM's own pool to the
 * primary. Each statement still runs with a snapshot of its own, taken when it starts. When one
 * fails, PostgreSQL skips the rest (COMMIT included): the transaction is rolled back and the error
 * thrown, so all of them or none commit.
 *
 * For a hot path of several small statements: a MikroORM transaction costs a round trip per
 * statement plus BEGIN and COMMIT, and each round trip costs the process a socket write and a
 * wake-up.
 *
 * Each statement runs as `EXECUTE` of a statement prepared once per connection (named after its
 * text; the first use on a connection costs one more round trip), with its values inlined as the
 * EXECUTE's arguments by MikroORM's own formatting, as `em.execute` sends them. PostgreSQL then
 * parses and analyses a statement's text once per connection and, after five runs, plans it once
 * (a generic plan) where it would otherwise do all three for every statement: for the projections'
 * statements, several CTEs each, parsing and planning were more than half of the database's CPU
 * (docs/performance.md). A statement with an array value (which MikroORM spreads into a list),
 * whose text PostgreSQL cannot prepare, or sent through a transaction pooler runs inlined as before.
 */
export function transactionInOneRoundTrip(
  orm: Orm,
  statements: readonly Statement[],
): Promise<Array<Array<Record<string, unknown>>>> {
  // Under an unrecorded trace the pg instrumentation's spans would never be exported: skip their work.
  return unlessRecorded(() =>
    onPrimary(orm, async (client, sqlOf, discard) => {
      const texts: string[] = [];
      for (const statement of statements) texts.push(await sqlOf(statement));
      try {
        // Several statements in one query: pg answers with one result per statement.
        const text = ['begin', ...texts, 'commit'].join(';\n');
        const shown = ['begin', ...statements.map(({ sql }) => sql), 'commit'].join(';\n');
        const results = (await sendShowing(text, shown, (sent) => client.query(sent))) as unknown as QueryResult[];
        return results.slice(1, -1).map((result) => result.rows as Array<Record<string, unknown>>);
      } catch (error) {
        // The statements after the failing one were skipped, and the transaction is open but aborted.
        await client.query('rollback').catch(discard);
        throw error;
      }
    }),
  );
}

/**
 * One statement, autocommitted, in one round trip, run as `transactionInOneRoundTrip` runs each of
 * its statements (EXECUTE of the statement prepared on the connection); PostgreSQL's errors come
 * back as MikroORM's exceptions, as `em.execute` throws them. For a statement that is atomic by
 * itself on a hot path: a command's closing write.
 */
export function statementInOneRoundTrip(orm: Orm, statement: Statement): Promise<Array<Record<string, unknown>>> {
  return unlessRecorded(() =>
    onPrimary(orm, async (client, sqlOf) => {
      const text = await sqlOf(statement);
      return (await sendShowing(text, statement.sql, (sent) => client.query(sent))).rows as Array<Record<string, unknown>>;
    }).catch((error: unknown) => {
      throw error instanceof pg.DatabaseError ? orm.em.getDriver().convertException(error) : error;
    }),
  );
}

/**
 * Runs `work` on a connection of MikroORM's own pool to the primary, `sqlOf` turning each
 * statement into what this connection sends; sent again when `forgetPrepared` says so. The
 * connection goes back to the pool unless `work` discarded it (a failed rollback) or failed with
 * something other than an error PostgreSQL answered (its socket, say).
 */
async function onPrimary<T>(
  orm: Orm,
  work: (client: PoolClient, sqlOf: (statement: Statement) => Promise<string>, discard: (cause: unknown) => void) => Promise<T>,
): Promise<T> {
  const platform = orm.em.getPlatform();
  const pool = await orm.em.getConnection('write').getNativeClient();
  const client = await pool.connect();
  let broken: Error | undefined;
  const discard = (cause: unknown) => {
    broken = cause instanceof Error ? cause : new Error(String(cause));
  };
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work(client, (statement) => sqlOf(pool, client, platform, statement), discard);
      } catch (error) {
        if (broken || !forgetPrepared(pool, client, error, attempt)) throw error;
      }
    }
  } catch (error) {
    if (!(error instanceof pg.DatabaseError)) broken ??= error as Error;
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * After an EXECUTE found its prepared statement missing: true when the query is worth sending again.
 * Prepared statements outlive transactions, not DEALLOCATE or DISCARD: the first time, the
 * connection's are forgotten and prepared again. Missing again right after that, a transaction
 * pooler is in between (see `behindPooler`): the third attempt goes inlined.
 */
function forgetPrepared(pool: object, client: PoolClient, error: unknown, attempt: number): boolean {
  if ((error as { code?: unknown }).code !== NOT_PREPARED || attempt > 2) return false;
  if (attempt === 2) behindPooler.add(pool);
  preparedOn.delete(client);
  return true;
}

/** The statement as this connection runs it: `EXECUTE` of its prepared statement (prepared now if needed), or inlined. */
async function sqlOf(pool: object, client: PoolClient, platform: Platform, { sql, params }: Statement): Promise<string> {
  const shape = !behindPooler.has(pool) && params.every(isScalar) ? shapeOf(sql) : undefined;
  let prepared = preparedOn.get(client);
  if (!prepared) preparedOn.set(client, (prepared = new Set<string>()));
  if (!shape || (!prepared.has(shape.name) && prepared.size >= MAX_PREPARED_PER_CONNECTION))
    return platform.formatQuery(sql, params);
  if (!prepared.has(shape.name)) {
    try {
      await client.query(`prepare ${shape.name} as ${shape.numbered}`);
    } catch (error) {
      // Run inlined, where any error of the statement's own surfaces; a missing table, say, may exist next time.
      if (!(error instanceof pg.DatabaseError)) throw error;
      if (NEVER_PREPARABLE.has(String(error.code))) shapes.set(sql, undefined);
      if (error.code === ALREADY_PREPARED) behindPooler.add(pool);
      return platform.formatQuery(sql, params);
    }
    prepared.add(shape.name);
  }
  const values = params.map((value) => platform.formatQuery('?', [value]));
  return values.length ? `execute ${shape.name}(${values.join(', ')})` : `execute ${shape.name}`;
}

/** A statement text's prepared name and its `$n` form; undefined for a text that cannot be prepared. */
interface Shape {
  name: string;
  numbered: string;
}

/** Shapes by text, worked out once per text (the hot path runs the same few texts over and over). */
const shapes = new Map<string, Shape | undefined>();

function shapeOf(sql: string): Shape | undefined {
  if (shapes.has(sql)) return shapes.get(sql);
  const numbered = numberedPlaceholders(sql);
  const shape =
    numbered === undefined ? undefined : { name: `cqrs_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`, numbered };
  // Bounded like the connections' sets: texts past the bound are worked out each time.
  if (shapes.size < MAX_PREPARED_PER_CONNECTION * 4) shapes.set(sql, shape);
  return shape;
}

/**
 * A value MikroORM formats as one literal: a primitive, a date, a plain object (as JSON). It
 * spreads an array into a list, which would not fit one parameter.
 */
function isScalar(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return value instanceof Date || prototype === Object.prototype || prototype === null;
}

/**
 * `?` placeholders as `$1`, `$2`, ..., read as MikroORM's `formatQuery` reads them (`\?` is a
 * question mark); undefined for a text with `??` (an identifier, which no parameter can be).
 */
function numberedPlaceholders(sql: string): string | undefined {
  let numbered = '';
  let count = 0;
  for (let at = 0; at < sql.length; at++) {
    const char = sql[at];
    if (char === '\\' && sql[at + 1] === '?') {
      numbered += '?';
      at++;
    } else if (char === '?' && sql[at + 1] === '?') return undefined;
    else numbered += char === '?' ? `$${++count}` : char;
  }
  return numbered;
}
