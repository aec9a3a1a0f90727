import type { Logger } from './logger.js';

/**
 * Runs `drain` once on SIGTERM or SIGINT and exits: 0 when it finished, 1 when it overran
 * `timeoutMs` (so the pod's grace period is never the thing that stops us).
 */
export function exitOnSignals(drain: () => Promise<void>, timeoutMs: number, logger: Logger): void {
  let draining = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (draining) return;
    draining = true;
    logger.info('draining', { signal, timeoutMs });
    const overrun = setTimeout(() => {
      logger.error('drain overran its time limit; exiting anyway', { timeoutMs });
      process.exit(1);
    }, timeoutMs + 1_000);
    overrun.unref();
    drain().then(
      () => {
        logger.info('drained; exiting');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error('drain failed', { error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
