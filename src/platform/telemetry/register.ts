/**
 * Loaded before the application with `node --import ./dist/src/platform/telemetry/register.js`
 * (or `--import ./src/platform/telemetry/register.ts` under tsx). In ESM, instrumentation only
 * patches modules loaded after this loader hook is registered, hence the separate entry.
 */
import { register } from 'node:module';
import { register as registerInThread, supportsSyncHooks } from 'import-in-the-middle/register-hooks.mjs';

/**
 * Only the packages the instrumentations in sdk.ts patch go through the hook; every other module
 * loads untouched. Keep in step with `instrumentations()`.
 */
const INSTRUMENTED = ['pg', 'pg-pool', 'ioredis', 'winston', 'http', 'https'];

// In-thread hooks (module.registerHooks) where Node supports them: the asynchronous loader runs a
// second thread with its own heap and pays a message round trip per resolved module (in the
// profile it was 15% of the API's CPU and tens of MB of RSS).
if (supportsSyncHooks()) registerInThread({ include: INSTRUMENTED });
else register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: INSTRUMENTED } });
const { startTelemetry } = await import('./sdk.js');
startTelemetry();
