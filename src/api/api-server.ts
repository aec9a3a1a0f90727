import { setTimeout as delay } from 'node:timers/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Services } from '../composition-root.js';
import { createApp } from './app.js';
import { clientErrorResponse } from './error-handler.js';

export interface RunningApi {
  server: Server;
  url: string;
  /** Readiness turns 503, then in-flight requests finish (bounded), then the server closes. */
  stop(): Promise<void>;
}

/** Listens on `port` (0 picks a free one, as tests do). */
export async function startApiServer(services: Services, port: number): Promise<RunningApi> {
  const { config } = services;
  const readiness = { draining: false };
  const app = createApp({ services, readiness });
  const server = app.listen(port);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  server.keepAliveTimeout = 65_000; // longer than typical load-balancer idle timeouts
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.destroyed) socket.end(clientErrorResponse(error));
    else socket.destroy();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  services.logger.info('API listening', { url });

  return {
    server,
    url,
    async stop() {
      readiness.draining = true;
      await delay(config.SHUTDOWN_DELAY_MS);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets become idle as their last response ends; close each as it does.
      const sweeper = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      const deadline = delay(config.SHUTDOWN_TIMEOUT_MS).then(() => server.closeAllConnections());
      await Promise.race([closed, deadline]);
      clearInterval(sweeper);
    },
  };
}
