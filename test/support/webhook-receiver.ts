import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhookContractViolations } from './webhook-contract.js';

export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Where the request breaks the AsyncAPI contract (empty when it keeps it, or when not checked). */
  violations: string[];
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** Stops the server; rejects when a request broke the webhook contract (a failing after-hook). */
  close(): Promise<void>;
}

/**
 * A loopback HTTP server standing in for a tenant's webhook endpoint: it records every request
 * and answers `status` (or never answers, for timeouts). Every request is checked against the
 * webhooks' AsyncAPI document (./webhook-contract.ts) unless `contract: false` (a receiver for
 * something other than webhook deliveries); a violation fails `close()`, so no test can miss one.
 */
export async function startWebhookReceiver(
  status: number | 'never' = 204,
  { contract = true }: { contract?: boolean } = {},
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const violations = contract ? webhookContractViolations({ headers: request.headers, body }) : [];
      received.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body, violations });
      if (status !== 'never') response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      const broken = received.flatMap((request) => request.violations);
      if (broken.length) throw new Error(`a webhook delivery broke the AsyncAPI contract:\n  ${broken.join('\n  ')}`);
    },
  };
}
