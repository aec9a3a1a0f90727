import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import { requestSpanRoute } from '../platform/telemetry/request-span.js';

interface Labels {
  method: string;
  route: string;
  status_code: string;
}

/**
 * Counts, times and logs every request by route template (`/v1/orders/:orderId`), never the raw
 * path, so the number of series stays bounded whatever clients send. The same template names the
 * request's span (there is no Express instrumentation to do it: see src/platform/telemetry/sdk.ts).
 * The access log line
 * carries the request id and trace ids like every other line. The label children of each series
 * are bound once (prom-client otherwise hashes the labels of every observation).
 */
export function observeRequests(metrics: Metrics, logger: Logger) {
  const series = new Map<string, ReturnType<typeof bind>>();
  const bind = (labels: Labels) => ({
    labels,
    requests: metrics.httpRequests.labels(labels),
    duration: metrics.httpDuration.labels(labels),
  });
  const seriesOf = (method: string, route: string, status: string) => {
    const key = `${method} ${status} ${route}`;
    let found = series.get(key);
    if (!found) {
      if (series.size >= 1_000) series.clear();
      series.set(key, (found = bind({ method, route, status_code: status })));
    }
    return found;
  };
  return (request: Request, response: Response, next: NextFunction): void => {
    const started = performance.now();
    const nameSpan = requestSpanRoute();
    response.on('finish', () => {
      const routePath = (request.route as { path?: string } | undefined)?.path;
      const route = routePath ? `${request.baseUrl}${routePath}` : undefined;
      if (route) nameSpan(route);
      const { labels, requests, duration } = seriesOf(request.method, route ?? 'unmatched', String(response.statusCode));
      const seconds = (performance.now() - started) / 1000;
      requests.inc();
      duration.observe(seconds);
      // Probes and scrapes would drown the access log.
      if (!/^\/(health|metrics)/.test(request.path))
        logger.info('request', { ...labels, durationMs: Math.round(seconds * 1000) });
    });
    next();
  };
}
