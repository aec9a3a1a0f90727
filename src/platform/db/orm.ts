import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { EntitySchema } from '@mikro-orm/core';
import type { Logger } from '../logger.js';
import { releaseDeadConnections } from './dead-connections.js';
import { migrations } from '../../../migrations/index.js';

export type { EntityManager } from '@mikro-orm/postgresql';
export type Orm = MikroORM;

export interface OrmSettings {
  databaseUrl: string;
  readUrl?: string | undefined;
  poolMax: number;
  /** How long a caller waits for a pooled connection before it fails as "database unavailable". */
  acquireTimeoutMs?: number | undefined;
  // The write side and the read side each register their own entities; platform knows neither.
  entities: EntitySchema<any, any>[];
  logger?: Logger;
}

export function ormOptions(settings: OrmSettings): Options {
  return {
    clientUrl: settings.databaseUrl,
    entities: settings.entities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: settings.poolMax },
    driverOptions: {
      // A transaction that dies with its connection must not keep it checked out (kysely#1990).
      onPoolCreated: releaseDeadConnections,
      // pg-pool's bound on both waiting for a free connection and opening a new one. Without it a
      // request queues behind a full pool for as long as the pool stays full: under overload every
      // caller would hang instead of being told to retry.
      ...(settings.acquireTimeoutMs ? { connectionTimeoutMillis: settings.acquireTimeoutMs } : {}),
    },
    // Reads outside a transaction (query handlers) go to the replica when one is set; every
    // transaction (commands, projections, the relay) uses the primary.
    replicas: settings.readUrl ? [{ name: 'read-replica', clientUrl: settings.readUrl }] : [],
    preferReadReplicas: true,
    // The schema changes only through migrations/; never infer or sync it.
    ensureDatabase: false,
    allowGlobalContext: false,
    migrations: { migrationsList: migrations, snapshot: false, transactional: true, allOrNothing: true, silent: true },
    debug: false,
    logger: (message) => settings.logger?.debug(message),
  };
}

export async function connectOrm(settings: OrmSettings): Promise<Orm> {
  return MikroORM.init(ormOptions(settings));
}

/**
 * Names of migrations that exist in code but are not applied yet (readiness gate), read from the
 * primary. MikroORM's migrator would read its table through the read replica when one is set,
 * and a replica that is gone (or a one-instance cluster) must not make every API pod unready.
 */
export async function pendingMigrations(orm: Orm): Promise<string[]> {
  const table = orm.config.get('migrations').tableName ?? 'mikro_orm_migrations';
  const rows = await orm.em
    .getConnection('write')
    .execute<{ name: string }[]>(`select name from ${table}`)
    // Before the first migration the table does not exist: everything is pending.
    .catch(async (error: unknown) => {
      if (await tableMissing(orm, table)) return [];
      throw error;
    });
  const applied = new Set(rows.map((row) => row.name.replace(/\.[jt]s$/, '')));
  return migrations.map((migration) => migration.name).filter((name) => !applied.has(name));
}

async function tableMissing(orm: Orm, table: string): Promise<boolean> {
  const [row] = await orm.em
    .getConnection('write')
    .execute<{ present: boolean }[]>('select to_regclass(?) is not null as present', [table]);
  return row?.present === false;
}

export async function migrateUp(orm: Orm): Promise<string[]> {
  const applied = await orm.migrator.up();
  return applied.map((migration) => migration.name);
}
