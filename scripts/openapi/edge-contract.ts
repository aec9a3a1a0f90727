/**
 * The part of the OpenAPI document that no controller can declare, because the HTTP edge answers
 * it around every operation (src/api/app.ts): authentication (401), the rate limit (429, and
 * `RateLimit-*` on every answer), the body parser (413, 415 for a body sent with any request), the HTTP parser's header limit (431),
 * request validation and the text gate (400 for every operation), conditional GETs (`ETag`, `If-None-Match`, 304) and the
 * one error handler (every error is `application/problem+json`); and three conventions of every
 * controller: each 202 says where to follow it (`Location`), each read that takes `consistentWith`
 * answers with `Consistency`, each command that takes `Idempotency-Key` may answer 409 (the key's
 * first request is still running) and 422 (the key was used with another request). `npm run gen` applies it to
 * tsoa's output; change this file (or the controllers' annotations), never the generated document.
 * It also rewrites two constructs tsoa emits that OpenAPI 3.0 does not allow (see below).
 */
import { FRESHNESS } from '../../src/queries/shared/consistency.js';

type Json = Record<string, unknown>;
interface Operation extends Json {
  parameters?: Json[];
  requestBody?: Json;
  responses: Record<string, Json>;
}
export interface OpenApiDocument extends Json {
  paths: Record<string, Record<string, Operation>>;
  components: Json & { schemas: Record<string, Json> };
}

const PROBLEM_JSON = 'application/problem+json';
const problemContent = { [PROBLEM_JSON]: { schema: { $ref: '#/components/schemas/Problem' } } };
const header = (name: string) => ({ $ref: `#/components/headers/${name}` });
const rateLimitHeaders = {
  'RateLimit-Limit': header('RateLimit-Limit'),
  'RateLimit-Remaining': header('RateLimit-Remaining'),
  'RateLimit-Reset': header('RateLimit-Reset'),
};

const headers: Json = {
  'RateLimit-Limit': {
    description: 'Requests allowed per window to this principal (or, before authentication, this address).',
    schema: { type: 'integer', minimum: 0 },
  },
  'RateLimit-Remaining': { description: 'Requests left in the current window.', schema: { type: 'integer', minimum: 0 } },
  'RateLimit-Reset': { description: 'Seconds until the window resets.', schema: { type: 'integer', minimum: 0 } },
  'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'integer', minimum: 0 } },
  'WWW-Authenticate': { description: 'The scheme to authenticate with: `Bearer`.', required: true, schema: { type: 'string' } },
  Location: {
    description: 'Where to follow the accepted work: `/v1/commands/{commandId}` for a command.',
    required: true,
    schema: { type: 'string' },
  },
  Consistency: {
    description:
      'Sent when the request named a command (`consistentWith` or `Consistent-With`): `fresh` when this read reflects it, `stale` when the bounded wait ran out first, `unknown-command` when the tenant has no such command.',
    required: false,
    schema: { type: 'string', enum: [...FRESHNESS] },
  },
  ETag: {
    description: 'Strong entity tag of this representation; send it back in `If-None-Match` to get 304 while it is unchanged.',
    required: true,
    schema: { type: 'string', pattern: '^"[^"]*"$' },
  },
};

const responses: Json = {
  BadRequest: {
    description:
      'Malformed input: a parameter or the body is invalid (`/problems/request.invalid`, with `errors[]`); or the path, a query parameter, a header or the body holds text that cannot be stored or read (`/problems/request.unstorable-text`, `/problems/request.malformed-path`, `/problems/request.unreadable`).',
    headers: rateLimitHeaders,
    content: problemContent,
  },
  Unauthenticated: {
    description: 'No valid bearer token (`/problems/auth.unauthenticated`).',
    headers: { 'WWW-Authenticate': header('WWW-Authenticate'), ...rateLimitHeaders },
    content: problemContent,
  },
  ContentTooLarge: {
    description: 'The body is larger than `BODY_LIMIT` (`/problems/request.too-large`).',
    headers: rateLimitHeaders,
    content: problemContent,
  },
  UnsupportedMediaType: {
    description: 'The body encoding or charset is not supported.',
    headers: rateLimitHeaders,
    content: problemContent,
  },
  RequestHeaderFieldsTooLarge: {
    description:
      "The request's headers exceed the server's limit (`/problems/request.headers-too-large`); answered by the HTTP parser before any route, so without `RateLimit-*`.",
    content: problemContent,
  },
  IdempotencyConflict: {
    description:
      'The Idempotency-Key is in use by a request still running (`/problems/idempotency.in-flight`), or a retry took this request over while it ran and it was rolled back (`/problems/idempotency.claim-lost`); retry later.',
    headers: rateLimitHeaders,
    content: problemContent,
  },
  IdempotencyKeyReused: {
    description: 'The Idempotency-Key was used with a different request (`/problems/idempotency.key-reused`).',
    headers: rateLimitHeaders,
    content: problemContent,
  },
  TooManyRequests: {
    description: 'Rate limit exceeded (`/problems/request.rate-limited`); retry after `Retry-After` seconds.',
    headers: { 'Retry-After': header('Retry-After'), ...rateLimitHeaders },
    content: problemContent,
  },
  ServiceUnavailable: {
    description: 'PostgreSQL cannot be reached (`/problems/database.unavailable`); retry later.',
    headers: {
      'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } },
      ...rateLimitHeaders,
    },
    content: problemContent,
  },
  NotModified: {
    description: 'The representation still has the entity tag sent in `If-None-Match`.',
    headers: { ETag: header('ETag'), ...rateLimitHeaders },
  },
};

const parameters: Json = {
  IfNoneMatch: {
    in: 'header',
    name: 'If-None-Match',
    required: false,
    description: 'Entity tags of representations the client holds; a match answers 304 (whatever `Cache-Control` says).',
    schema: { type: 'string' },
  },
};

export function finishDocument(document: OpenApiDocument): OpenApiDocument {
  document.components = { ...document.components, headers, responses, parameters };
  for (const operations of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) addEdgeResponses(method, operation);
  }
  return rewriteForOpenApi30(document, document.components.schemas) as OpenApiDocument;
}

function addEdgeResponses(method: string, operation: Operation): void {
  const shared = (name: string) => ({ $ref: `#/components/responses/${name}` });
  const own = operation.responses;
  for (const [status, response] of Object.entries(own)) {
    if (Number(status) >= 400 && response.content) response.content = problemContent;
    response.headers = { ...(response.headers as Json), ...rateLimitHeaders };
  }
  // The edge's text gate checks the path, query, headers and any body of every request.
  own['400'] ??= shared('BadRequest');
  own['401'] = shared('Unauthenticated');
  if (operation.parameters?.some((parameter) => parameter.name === 'Idempotency-Key')) {
    addOrExplain(own, '409', 'IdempotencyConflict');
    addOrExplain(own, '422', 'IdempotencyKeyReused');
  }
  // The body parser reads a body sent with any request, even to an operation that takes none.
  own['413'] = shared('ContentTooLarge');
  own['415'] = shared('UnsupportedMediaType');
  own['429'] = shared('TooManyRequests');
  own['431'] = shared('RequestHeaderFieldsTooLarge');
  own['503'] ??= shared('ServiceUnavailable');
  if (own['202']) own['202'].headers = { Location: header('Location'), ...(own['202'].headers as Json) };
  if (operation.parameters?.some((parameter) => parameter.name === 'consistentWith')) {
    own['200']!.headers = { Consistency: header('Consistency'), ...(own['200']!.headers as Json) };
  }
  if (method === 'get') {
    operation.parameters = [...(operation.parameters ?? []), { $ref: '#/components/parameters/IfNoneMatch' }];
    own['200']!.headers = { ETag: header('ETag'), ...(own['200']!.headers as Json) };
    own['304'] = shared('NotModified');
  }
  operation.responses = Object.fromEntries(Object.entries(own).sort(([a], [b]) => a.localeCompare(b)));
}

/** A shared cause of `status`: the shared response when the operation declares none, else added to its description. */
function addOrExplain(own: Record<string, Json>, status: string, name: string): void {
  const existing = own[status];
  if (!existing) own[status] = { $ref: `#/components/responses/${name}` };
  else existing.description = `${existing.description as string}; or: ${(responses[name] as Json).description as string}`;
}

/**
 * OpenAPI 3.0 ignores every sibling of `$ref` and allows `nullable` only beside `type`, while tsoa
 * writes `{ $ref, description }` and `{ allOf: [$ref], nullable }`. A described reference becomes
 * `allOf: [$ref]` with its description; a nullable reference to a scalar schema becomes that schema
 * inlined with `nullable`. A nullable reference to an object fails generation: use an inline type.
 */
function rewriteForOpenApi30(node: unknown, schemas: Record<string, Json>): unknown {
  if (Array.isArray(node)) return node.map((item) => rewriteForOpenApi30(item, schemas));
  if (!node || typeof node !== 'object') return node;
  const { $ref, allOf, nullable, ...rest } = node as Json;
  if (typeof $ref === 'string' && Object.keys(rest).length > 0 && $ref.startsWith('#/components/schemas/')) {
    return { ...mapValues(rest, schemas), allOf: [{ $ref }] };
  }
  if (nullable === true && Array.isArray(allOf) && allOf.length === 1 && !('type' in rest)) {
    const target = (allOf[0] as Json).$ref as string;
    const schema = schemas[target.replace('#/components/schemas/', '')];
    if (!schema || schema.type === 'object' || !schema.type)
      throw new Error(`nullable reference to ${target}: use an inline type`);
    return { ...schema, ...mapValues(rest, schemas), nullable: true };
  }
  return mapValues(node as Json, schemas);
}

function mapValues(node: Json, schemas: Record<string, Json>): Json {
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, rewriteForOpenApi30(value, schemas)]));
}
