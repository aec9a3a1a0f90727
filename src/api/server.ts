/** API process entry: `node --import ./dist/src/platform/telemetry/register.js dist/src/api/server.js`. */
import { compose } from '../composition-root.js';
import { loadConfigOrExit } from '../platform/config.js';
import { checkEvictionPolicy } from '../platform/redis.js';
import { exitOnSignals } from '../platform/shutdown.js';
import { startApiServer } from './api-server.js';

const config = loadConfigOrExit();
const services = await compose(config, { processName: 'api' });
await checkEvictionPolicy(config.REDIS_URL, config.REDIS_EVICTION_POLICY_CHECK, services.logger);
const api = await startApiServer(services, config.PORT);
exitOnSignals(
  async () => {
    await api.stop();
    await services.close();
  },
  config.SHUTDOWN_DELAY_MS + config.SHUTDOWN_TIMEOUT_MS,
  services.logger,
);
services.logger.info('API ready', { url: api.url });
