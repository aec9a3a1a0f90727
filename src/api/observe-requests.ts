import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';

/**
 * Counts, times and logs every request by route template (`/v1/orders/:orderId`), never the raw
 * path, so the number of series stays bounded whatever clients send. The access log line
 * carries the request id and trace ids like every other line.
 */
export function observeRequests(metrics: Metrics, logger: Logger) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const stop = metrics.httpDuration.startTimer();
    response.on('finish', () => {
      const routePath = (request.route as { path?: string } | undefined)?.path;
      const labels = {
        method: request.method,
        route: routePath ? `${request.baseUrl}${routePath}` : 'unmatched',
        status_code: String(response.statusCode),
      };
      metrics.httpRequests.inc(labels);
      const seconds = stop(labels);
      // Probes and scrapes would drown the access log.
      if (!/^\/(health|metrics)/.test(request.path))
        logger.info('request', { ...labels, durationMs: Math.round(seconds * 1000) });
    });
    next();
  };
}
