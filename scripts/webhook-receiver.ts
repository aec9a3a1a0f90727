/**
 * `npm run webhook:receiver [-- --api http://localhost:3000 --tenant acme --port 4000 --events order.placed,order.paid]`
 *
 * A local webhook endpoint for trying deliveries: it listens on 127.0.0.1, subscribes itself
 * through the API as the tenant's admin (a dev token, like `npm run token`), verifies every
 * delivery's signature with the secret that subscription returned, validates it against the
 * service's `/asyncapi.json` as a consumer would (docs/webhooks.md), and prints it. Ctrl-C deletes
 * the subscription. The API must allow a loopback target: start it with
 * `WEBHOOK_ALLOWED_HOSTS=127.0.0.1` (see docs/webhooks.md).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/platform/config.js';
import { signDevToken } from '../src/platform/dev-tokens.js';
import { verifyWebhook } from '../src/platform/webhook-signature.js';
import { deliveryValidator, type AsyncApiDocument } from './asyncapi/delivery-validator.js';

const { values } = parseArgs({
  options: {
    api: { type: 'string', default: 'http://localhost:3000' },
    tenant: { type: 'string', default: 'acme' },
    port: { type: 'string', default: '0' },
    events: {
      type: 'string',
      default: 'order.placed,order.paid,order.payment_failed,order.cancelled,order.shipped,order.expired',
    },
  },
});
const token = signDevToken(loadConfig(), { sub: 'webhook-receiver', tenant: values.tenant, roles: ['admin'] });
let secret = '';
const contract = deliveryValidator((await (await fetch(`${values.api}/asyncapi.json`)).json()) as AsyncApiDocument);

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const valid = verifyWebhook({
      secret,
      body,
      timestamp: String(request.headers['webhook-timestamp'] ?? ''),
      signature: String(request.headers['webhook-signature'] ?? ''),
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    // A receiver answers 2xx only for what it accepts: a bad signature is refused (and retried).
    response.writeHead(valid ? 204 : 401).end();
    const violations = valid ? contract.deliveryViolations({ headers: request.headers, body }) : [];
    console.log(
      `${new Date().toISOString()} ${valid ? 'signature ok' : 'SIGNATURE INVALID'} Webhook-Id ${request.headers['webhook-id']}`,
    );
    if (valid) console.log(violations.length ? `CONTRACT VIOLATION: ${violations.join('; ')}` : 'contract ok');
    console.log(valid ? JSON.stringify(JSON.parse(body), null, 2) : body);
  });
});
await new Promise<void>((resolve) => server.listen(Number(values.port), '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`;

const subscribed = await fetch(`${values.api}/v1/webhooks`, {
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: JSON.stringify({ url, eventTypes: values.events.split(',') }),
});
const answer = (await subscribed.json()) as { webhookId?: string; secret?: string; detail?: string };
if (subscribed.status !== 202 || !answer.secret) {
  console.error(`could not subscribe ${url} at ${values.api}: ${subscribed.status} ${answer.detail ?? ''}`);
  if (subscribed.status === 422) console.error('start the API with WEBHOOK_ALLOWED_HOSTS=127.0.0.1 to allow a loopback receiver');
  server.close();
  process.exit(1);
}
secret = answer.secret;
console.log(`listening on ${url}, subscribed to ${values.events} of tenant ${values.tenant} (webhook ${answer.webhookId})`);

process.once('SIGINT', () => {
  void fetch(`${values.api}/v1/webhooks/${answer.webhookId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })
    .then((deleted) => console.log(`subscription deleted (${deleted.status})`))
    .finally(() => server.close());
});
