/**
 * Loaded before the application with `node --import ./dist/src/platform/telemetry/register.js`
 * (or `--import ./src/platform/telemetry/register.ts` under tsx). In ESM, instrumentation only
 * patches modules loaded after this loader hook is registered, hence the separate entry.
 */
import { register } from 'node:module';

// Only third-party modules are instrumented; wrapping the service's own modules adds nothing.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
  data: { exclude: [/^file:(?!.*\/node_modules\/)/] },
});
const { startTelemetry } = await import('./sdk.js');
startTelemetry();
