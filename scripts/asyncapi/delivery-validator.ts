/**
 * How a consumer validates a webhook delivery against the AsyncAPI document (docs/webhooks.md,
 * "Validating deliveries"): the body is the message `<type>.v<version>` of
 * `components.messages`, checked against its `payload` schema, and the headers against its
 * `headers` schema (JSON Schema draft-07, here with Ajv). Used by `npm run webhook:receiver` (as a
 * consumer: objects stay open to fields added later) and by the tests' receiver
 * (test/support/webhook-contract.ts, `strict`: a field the document does not describe is a
 * violation, so the service sends nothing undocumented).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

export interface AsyncApiDocument {
  components: {
    messages: Record<string, { headers: { $ref: string }; payload: { $ref: string } }>;
    schemas: Record<string, object>;
  };
}

export interface Delivery {
  /** Header names lower-case, as Node's http module gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body. */
  body: string;
}

export interface DeliveryValidator {
  /** Everything wrong with one delivery (headers and body); empty when it keeps the contract. */
  deliveryViolations(delivery: Delivery): string[];
  /** The parsed body alone. */
  bodyViolations(body: unknown): string[];
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const COMPONENTS = 'asyncapi-components';

export function deliveryValidator(document: AsyncApiDocument, { strict = false } = {}): DeliveryValidator {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
  addFormats(ajv);
  const schemas = rewriteRefs(document.components.schemas) as Record<string, unknown>;
  ajv.addSchema({ $id: COMPONENTS, definitions: strict ? closed(schemas) : schemas });
  const compiled = new Map<string, ValidateFunction>();

  const errors = (ref: string, value: unknown): string[] => {
    let validate = compiled.get(ref);
    if (!validate) {
      validate = ajv.compile({ $ref: rewriteRefs(ref) as string });
      compiled.set(ref, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? 'is invalid'}${detail(e.params)}`);
  };
  const messageOf = (body: unknown) => {
    const { type, version } = (body ?? {}) as { type?: unknown; version?: unknown };
    const id = `${String(type)}.v${String(version)}`;
    const message = document.components.messages[id];
    if (!message) return `no message ${id} in the AsyncAPI document (type ${String(type)}, version ${String(version)})`;
    return { id, ...message };
  };
  const bodyViolations = (body: unknown): string[] => {
    const message = messageOf(body);
    if (typeof message === 'string') return [message];
    return errors(message.payload.$ref, body).map((error) => `${message.id} body${error}`);
  };

  return {
    bodyViolations,
    deliveryViolations(delivery) {
      let body: unknown;
      try {
        body = JSON.parse(delivery.body);
      } catch {
        return ['the body is not JSON'];
      }
      const message = messageOf(body);
      if (typeof message === 'string') return [message];
      return [
        ...errors(message.headers.$ref, delivery.headers).map((error) => `${message.id} headers${error}`),
        ...bodyViolations(body),
      ];
    },
  };
}

function detail(params: Record<string, unknown>): string {
  const value = params.additionalProperty ?? params.allowedValue ?? params.allowedValues ?? params.missingProperty;
  return value === undefined ? '' : ` (${JSON.stringify(value)})`;
}

/** `#/components/schemas/X` -> the registered components schema, so each message compiles on its own. */
function rewriteRefs(node: unknown): unknown {
  if (typeof node === 'string') return node.replace('#/components/schemas/', `${COMPONENTS}#/definitions/`);
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, key === '$ref' || typeof value === 'object' ? rewriteRefs(value) : value]),
  );
}

/** Every object schema that lists its properties admits no others (except the headers: HTTP adds its own). */
function closed(schemas: Record<string, unknown>): Record<string, unknown> {
  const close = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(close);
    if (!node || typeof node !== 'object') return node;
    const copy = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, close(value)]));
    if ('properties' in copy && !('additionalProperties' in copy)) copy.additionalProperties = false;
    return copy;
  };
  const { WebhookHeaders, ...rest } = schemas;
  return { WebhookHeaders, ...(close(rest) as object) };
}
