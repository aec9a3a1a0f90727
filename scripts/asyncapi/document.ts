/**
 * The AsyncAPI 3 document of the webhooks: one message per integration event type and version,
 * each payload and header schema generated from the zod schemas of src/events/integration, so the
 * document cannot drift from what the webhooks worker sends. `npm run gen` writes it to
 * src/api/generated/asyncapi.json (./generate.ts); the API serves it at /asyncapi.json.
 */
import { z } from 'zod';
import packageJson from '../../package.json' with { type: 'json' };
import {
  INTEGRATION_EVENTS,
  INTEGRATION_EVENT_TYPES,
  integrationEventSchema,
  type IntegrationEventType,
} from '../../src/events/integration/index.js';
import { PublicCustomerV1 } from '../../src/events/integration/customer.integration.js';
import { PublicOrderV1 } from '../../src/events/integration/order.integration.js';
import { PublicProductV1 } from '../../src/events/integration/product.integration.js';

type Json = Record<string, unknown>;

/** Component id of an event's message and payload schema: `order.placed.v1`. */
export const messageIdOf = (type: IntegrationEventType, version: number) => `${type}.v${version}`;

/** The headers of every delivery (names as HTTP sends them, lower-case; see docs/webhooks.md). */
const WebhookHeaders = z
  .object({
    'content-type': z.literal('application/json'),
    'webhook-id': z.uuid().describe('The event id (`id` of the body); the same on every retry of one delivery.'),
    'webhook-timestamp': z.string().regex(/^\d+$/).describe('Unix seconds when this attempt was signed.'),
    'webhook-signature': z
      .string()
      .regex(/^v1=[0-9a-f]{64}$/)
      .describe("`v1=` + hex HMAC-SHA256 of `<webhook-timestamp>.<body>` keyed with the subscription's secret."),
  })
  .meta({ title: 'Webhook headers' });

/** Shared shapes get a component of their own; every message payload is one too. */
function componentSchemas(): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  registry.add(WebhookHeaders, { id: 'WebhookHeaders' });
  registry.add(PublicOrderV1, { id: 'Order.v1' });
  registry.add(PublicProductV1, { id: 'Product.v1' });
  registry.add(PublicCustomerV1, { id: 'Customer.v1' });
  for (const type of INTEGRATION_EVENT_TYPES) {
    const schema = integrationEventSchema(type).meta({ title: `${type} v${INTEGRATION_EVENTS[type].version}` });
    registry.add(schema, { id: messageIdOf(type, INTEGRATION_EVENTS[type].version) });
  }
  // `input`: consumers must accept fields added later (docs/webhooks.md), so objects stay open.
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-07',
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Json> };
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _draft, $id: _id, ...schema }]) => [id, schema]));
}

export function asyncApiDocument(): Json {
  const messages: Record<string, Json> = {};
  for (const type of INTEGRATION_EVENT_TYPES) {
    const { version, summary } = INTEGRATION_EVENTS[type];
    const id = messageIdOf(type, version);
    messages[id] = {
      name: type,
      title: `${type} (v${version})`,
      summary,
      contentType: 'application/json',
      headers: { $ref: '#/components/schemas/WebhookHeaders' },
      payload: { $ref: `#/components/schemas/${id}` },
    };
  }
  const channelMessages = Object.fromEntries(Object.keys(messages).map((id) => [id, { $ref: `#/components/messages/${id}` }]));
  return {
    asyncapi: '3.1.0',
    info: {
      title: `${packageJson.name} webhooks`,
      version: packageJson.version,
      description: [
        'Integration events this service delivers to webhook subscriptions (`POST /v1/webhooks`): a public contract,',
        "versioned separately from the service's internal domain events. Each delivery is one HTTP POST of one event",
        "to the subscribed URL, signed with the subscription's secret and retried with backoff until it answers 2xx.",
        'Versioning, signatures and retries: docs/webhooks.md. The REST API is described by /openapi.json.',
      ].join(' '),
    },
    defaultContentType: 'application/json',
    servers: {
      subscriber: {
        host: '{host}',
        protocol: 'https',
        description: "The receiver named by a subscription's `url` (https; plain http only for allow-listed hosts).",
        variables: { host: { description: 'Host (and port) of the subscribed URL.' } },
      },
    },
    channels: {
      webhook: {
        address: null,
        title: 'Webhook subscription URL',
        description: 'The `url` of a subscription: every event of a subscribed type is POSTed there.',
        servers: [{ $ref: '#/servers/subscriber' }],
        messages: channelMessages,
      },
    },
    operations: {
      deliverWebhook: {
        action: 'send',
        title: 'Deliver a webhook',
        summary: 'POSTs one integration event; a 2xx answer acknowledges it, anything else is retried.',
        channel: { $ref: '#/channels/webhook' },
        messages: Object.keys(messages).map((id) => ({ $ref: `#/channels/webhook/messages/${id}` })),
        bindings: { http: { method: 'POST', bindingVersion: '0.3.0' } },
      },
    },
    components: { messages, schemas: componentSchemas() },
  };
}
