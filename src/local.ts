/**
 * Local all-in-one process (`npm run dev`): applies migrations, optionally seeds the demo tenant,
 * then runs the API and every worker role in one process, with the same drain on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { startApiServer } from './api/api-server.js';
import { compose } from './composition-root.js';
import { demoBanner, seedDemo } from './demo-seed.js';
import { loadConfigOrExit } from './platform/config.js';
import { ensureDatabaseExists } from './platform/db/database-admin.js';
import { migrateUp } from './platform/db/orm.js';
import { exitOnSignals } from './platform/shutdown.js';
import { awaitDependenciesOrExit } from './platform/startup.js';
import { startWorkers } from './workers/worker-process.js';

const { values } = parseArgs({ options: { seed: { type: 'boolean', default: false } } });
const config = loadConfigOrExit();
await awaitDependenciesOrExit(config, { wait: true, postgres: true, redis: { required: true, checkPolicy: true } });
await ensureDatabaseExists(config.DATABASE_URL);
const services = await compose(config, { processName: 'local' });
await migrateUp(services.orm);

const workers = startWorkers({ ...services, ...(await services.queueSet()) }, ['all']);
const api = await startApiServer(services, config.PORT);
if (values.seed || config.DEMO_SEED) {
  const products = await seedDemo(services);
  console.log(demoBanner(services, api.url, products));
}
exitOnSignals(
  async () => {
    await api.stop();
    await workers.stop();
    await services.close();
  },
  config.SHUTDOWN_DELAY_MS + config.SHUTDOWN_TIMEOUT_MS,
  services.logger,
);
