import { Router } from 'express';
import type { Services } from '../composition-root.js';
import { pendingMigrations } from '../platform/db/orm.js';
import { NotReadyError } from '../platform/errors.js';
import { redisAnswers } from '../platform/redis.js';

export interface Readiness {
  draining: boolean;
}

/**
 * Liveness never touches a dependency (a restart cannot fix PostgreSQL). Readiness is gated by
 * PostgreSQL and applied migrations, and is refused (NotReadyError: 503 problem+json with the
 * checks, from the error handler) as soon as draining starts. Redis is reported but does not gate
 * the API: the write path needs only PostgreSQL.
 */
export function healthRoutes(services: Services, readiness: Readiness): Router {
  const router = Router();
  router.get('/health/live', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/health/ready', async (_request, response) => {
    const [database, redis] = await Promise.all([databaseState(services), redisAnswers(services.redis)]);
    const checks = { draining: String(readiness.draining), database, redis: redis ? 'ok' : 'unreachable (not gating)' };
    if (readiness.draining || database !== 'ok') throw new NotReadyError(checks);
    response.json({ status: 'ok', checks });
  });
  return router;
}

async function databaseState(services: Services): Promise<string> {
  try {
    const pending = await pendingMigrations(services.orm);
    return pending.length ? `pending migrations: ${pending.join(', ')}` : 'ok';
  } catch (error) {
    return `unreachable: ${error instanceof Error ? error.message : String(error)}`;
  }
}
