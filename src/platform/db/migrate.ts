/**
 * `npm run migrate` (and the Kubernetes migration Job): apply pending migrations and exit.
 * The only way the schema changes.
 */
import { loadConfigOrExit } from '../config.js';
import { createLogger } from '../logger.js';
import { awaitDependenciesOrExit } from '../startup.js';
import { ensureDatabaseExists } from './database-admin.js';
import { connectOrm, migrateUp } from './orm.js';

const config = loadConfigOrExit();
const logger = createLogger({ level: config.LOG_LEVEL, format: config.logFormat, service: 'migrate' });
// A one-shot command: an unreachable PostgreSQL is reported at once and the exit code says so.
await awaitDependenciesOrExit(config, { wait: false, postgres: true }, logger);
if (config.NODE_ENV !== 'production') await ensureDatabaseExists(config.DATABASE_URL);
const orm = await connectOrm({ databaseUrl: config.DATABASE_URL, poolMax: 1, entities: [] });
try {
  const applied = await migrateUp(orm);
  logger.info(applied.length ? `applied ${applied.length} migration(s)` : 'schema is up to date', { applied });
} catch (error) {
  logger.error('migration failed', { error });
  process.exitCode = 1;
} finally {
  await orm.close(true);
}
