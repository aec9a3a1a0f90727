import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { dropDatabase, ensureDatabaseExists } from '../../src/platform/db/database-admin.js';
import { connectOrm, migrateUp } from '../../src/platform/db/orm.js';

/** A short id that tells one run's databases and key prefixes from another's. */
export function uniqueId(): string {
  return `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/**
 * The one way tests, fault scenarios and benchmarks get a database of their own: the one named in
 * `databaseUrl`, created when missing and migrated when asked. Returns the URL.
 */
export async function provisionDatabase(databaseUrl: string, { migrate = false } = {}): Promise<string> {
  await ensureDatabaseExists(databaseUrl);
  if (migrate) await migrateDatabase(databaseUrl);
  return databaseUrl;
}

/** Runs this checkout's migrations against `databaseUrl` (one connection, closed afterwards). */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const orm = await connectOrm({ databaseUrl, poolMax: 1, entities: [] });
  try {
    await migrateUp(orm);
  } finally {
    await orm.close(true);
  }
}

/** Drops the database and deletes every Redis key under the prefix (never anything else: the servers are shared). */
export async function dropTestData(databaseUrl: string, redisUrl: string, prefix: string): Promise<void> {
  await dropDatabase(databaseUrl);
  await deleteKeys(redisUrl, prefix);
}

export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
