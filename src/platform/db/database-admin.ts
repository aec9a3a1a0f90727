import pg from 'pg';
import { DependencyError } from '../dependencies.js';

export interface PostgresFacts {
  version: string;
  /** Whether the database named in the URL exists (the server's `postgres` database answers either way). */
  databaseExists: boolean;
}

/**
 * One connection attempt to the server's `postgres` database: its version and whether our
 * database exists, or a DependencyError naming the URL.
 */
export async function probePostgres(url: string, timeoutMs = 2_000): Promise<PostgresFacts> {
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres'), connectionTimeoutMillis: timeoutMs });
  admin.on('error', () => undefined); // a server going away later must not crash a probe's caller
  try {
    await admin.connect();
    const version = await admin.query<{ server_version: string }>('show server_version');
    const found = await admin.query('select 1 from pg_database where datname = $1', [databaseName(url)]);
    return { version: version.rows[0]?.server_version ?? 'unknown', databaseExists: found.rowCount !== 0 };
  } catch (error) {
    throw new DependencyError('PostgreSQL', url, error);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/** Creates the database named in `url` when it does not exist (local runs and tests only). */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const name = databaseName(url);
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    const found = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) await admin.query(`create database ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${pg.escapeIdentifier(databaseName(url))} with (force)`);
  } finally {
    await admin.end();
  }
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!name) throw new Error(`DATABASE_URL names no database: ${url}`);
  return name;
}
