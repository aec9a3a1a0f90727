/**
 * Worker process entry: `node --import ./dist/src/platform/telemetry/register.js dist/src/workers/main.js`.
 * Roles come from `--role a,b` or WORKER_ROLES (relay, projections, payments, expiry, webhooks, all).
 */
import { parseArgs } from 'node:util';
import { compose } from '../composition-root.js';
import { loadConfigOrExit } from '../platform/config.js';
import { startHealthServer } from '../platform/health-server.js';
import { redisAnswers } from '../platform/redis.js';
import { exitOnSignals } from '../platform/shutdown.js';
import { awaitDependenciesOrExit } from '../platform/startup.js';
import { resolveRoles, startWorkers } from './worker-process.js';

const { values } = parseArgs({ options: { role: { type: 'string' } } });
const config = loadConfigOrExit(values.role ? { ...process.env, WORKER_ROLES: values.role } : process.env);
resolveRoles(config.WORKER_ROLES); // an unknown role stops the process before it connects anywhere
await awaitDependenciesOrExit(config, { wait: true, postgres: true, redis: { required: true, checkPolicy: true } });
const services = await compose(config, { processName: `worker:${config.WORKER_ROLES.join('+')}` });

const workers = startWorkers({ ...services, ...(await services.queueSet()) }, config.WORKER_ROLES);
let draining = false;
const health = await startHealthServer(
  config.WORKER_HTTP_PORT,
  {
    async ready() {
      const redis = await redisAnswers(services.redis);
      return { ok: !draining && redis, checks: { draining: String(draining), redis: redis ? 'ok' : 'unreachable' } };
    },
  },
  services.metrics.registry,
);

exitOnSignals(
  async () => {
    draining = true;
    await workers.stop();
    await services.close();
    health.server.close();
  },
  config.SHUTDOWN_TIMEOUT_MS,
  services.logger,
);
services.logger.info('worker ready', { roles: workers.roles, healthPort: health.port });
