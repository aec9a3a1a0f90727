/** API process entry: `node --import ./dist/src/platform/telemetry/register.js dist/src/api/server.js`. */
import { compose } from '../composition-root.js';
import { loadConfigOrExit } from '../platform/config.js';
import { exitOnSignals } from '../platform/shutdown.js';
import { awaitDependenciesOrExit } from '../platform/startup.js';
import { startApiServer } from './api-server.js';

const config = loadConfigOrExit();
// The write path needs only PostgreSQL; Redis must answer at boot only to check its eviction policy.
await awaitDependenciesOrExit(config, { wait: true, postgres: true, redis: { required: false, checkPolicy: true } });
const services = await compose(config, { processName: 'api', queues: 'on-first-use' });
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
