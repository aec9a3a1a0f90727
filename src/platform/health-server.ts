import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { NotReadyError } from './errors.js';

export interface HealthChecks {
  /** Readiness: false while draining or while a dependency that gates readiness is down. */
  ready(): Promise<{ ok: boolean; checks: Record<string, string> }>;
}

/**
 * The small HTTP server of a worker process: liveness (the event loop answers), readiness, and
 * Prometheus metrics. The API serves the same paths from its own Express app.
 */
export async function startHealthServer(
  port: number,
  health: HealthChecks,
  registry: Registry,
): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    const reply = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    void (async () => {
      if (request.url === '/health/live') return reply(200, 'application/json', JSON.stringify({ status: 'ok' }));
      if (request.url === '/health/ready') {
        const { ok, checks } = await health.ready();
        if (ok) return reply(200, 'application/json', JSON.stringify({ status: 'ok', checks }));
        // The API's answer to the same refusal (its error handler maps NotReadyError to this problem).
        const refused = new NotReadyError(checks);
        const problem = {
          type: `/problems/${refused.code}`,
          title: 'Service Unavailable',
          status: 503,
          detail: refused.detail,
          checks,
        };
        return reply(503, 'application/problem+json', JSON.stringify(problem));
      }
      if (request.url === '/metrics') return reply(200, registry.contentType, await registry.metrics());
      return reply(404, 'application/problem+json', JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }));
    })().catch((error: unknown) => reply(500, 'text/plain', String(error)));
  });
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}
