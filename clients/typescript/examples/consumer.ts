// The README's consumer code, type-checked by `npm run typecheck` so the README cannot rot.
import { createApiClient, followCommand, ProblemError } from '../src/index.js';

declare function getAccessToken(): Promise<string>;

export async function example(): Promise<void> {
  const api = createApiClient({ baseUrl: 'http://localhost:3000', token: () => getAccessToken() });

  // A command: 202 with the ids, and Location: /v1/commands/{commandId}.
  const placed = await api.POST('/v1/orders', {
    body: { lines: [{ productId: '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f', quantity: 2 }] },
    params: { header: { 'Idempotency-Key': 'checkout-7f3a' } }, // safe to retry
  });
  if (placed.error) {
    // Typed RFC 9457 problem: type, title, status, detail, and extensions such as errors[].
    for (const { field, message } of placed.error.errors ?? []) console.warn(field, message);
    throw new ProblemError(placed.error);
  }
  const { orderId, commandId } = placed.data;

  // Read your write: the query waits (bounded) until the read model reflects the command.
  const order = await api.GET('/v1/orders/{orderId}', {
    params: { path: { orderId }, query: { consistentWith: commandId } },
  });
  console.log(order.response.headers.get('Consistency'), order.data?.status, order.data?.totalCents);

  // Or follow the command until it has succeeded (or failed); its links say where to read.
  const command = await followCommand(api, commandId);
  console.log(command.status, command.links.order);

  // Page a list with the keyset cursor.
  let cursor: string | undefined;
  do {
    const page = await api.GET('/v1/orders', { params: { query: { limit: 50, cursor } } });
    if (page.error) throw new ProblemError(page.error);
    for (const item of page.data.items) console.log(item.id, item.status);
    cursor = page.data.nextCursor ?? undefined;
  } while (cursor);
}
