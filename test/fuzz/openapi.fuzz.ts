import { gzipSync } from 'node:zlib';
import committed from '../../src/api/generated/swagger.json' with { type: 'json' };
import { expect } from 'chai';
import fc from 'fast-check';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { contractViolations } from '../support/contract.js';
import { rawHttp, type RawResponse } from '../support/raw-http.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { signRaw, tokenFor } from '../support/tokens.js';
import {
  FORGED_CURSORS,
  HOSTILE_SEGMENTS,
  HOSTILE_TEXT,
  HOSTILE_VALUES,
  replaceSomewhere,
  resolve,
  resolveParameter,
  validValue,
  type FuzzRequest,
  type KnownIds,
  type OpenApiDocument,
  type Operation,
} from './arbitraries.js';

/**
 * The service attacks itself (guarantee 7): every operation of the served /openapi.json gets
 * valid requests generated from its schemas and mutated ones, from callers of every role in two
 * tenants and from no one. Each answer must be a documented status, never a 5xx, problem+json
 * when it is an error, within the time bound; a rejected write must leave the write tables and
 * the outbox as they were. `FUZZ_SEED` and `FUZZ_RUNS` (per operation) override the CI values.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
const REQUEST_TIMEOUT_MS = Number(process.env.FUZZ_REQUEST_TIMEOUT_MS ?? 5_000);
const WRITE_TABLES = [
  'products',
  'customers',
  'orders',
  'webhook_subscriptions',
  'command_log',
  'idempotency_keys',
  'outbox_events',
];
const MUTATIONS = [
  'none',
  'body-field',
  'body-drop-field',
  'body-unknown-field',
  'body-not-json',
  'path-segment',
  'parameter-text',
  'query-value',
  'query-unknown',
  'query-duplicate',
  'cursor',
  'content-type',
  'content-encoding',
  'idempotency-key',
  'consistent-with',
] as const;

/** The document as generated into the source tree (`npm run gen`): the one the server serves. */
const committedDocument = () => committed as unknown as OpenApiDocument;

describe(`Fuzzing every operation of /openapi.json (seed ${SEED}, ${RUNS} runs per operation)`, function () {
  this.timeout(600_000);
  let service: TestService;
  let document: OpenApiDocument;
  let known: KnownIds;
  let callers: Record<string, string | undefined>;
  const statistics = { requests: 0, byStatus: new Map<number, number>(), serverErrors: 0, rejectedWrites: 0, slowestMs: 0 };

  before(async () => {
    service = await startTestService({
      env: {
        RATE_LIMIT_POINTS: '1000000',
        RATE_LIMIT_ADDRESS_POINTS: '1000000',
        CONSISTENCY_WAIT_MAX: '200ms',
        WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
        LOG_LEVEL: 'error',
      },
    });
    document = (await (await fetch(`${service.url}/openapi.json`)).json()) as OpenApiDocument;
    known = await seed(service);
    callers = callersOf(service);
  });
  after(async () => {
    const statuses = [...statistics.byStatus].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`);
    console.log(
      `      fuzz figures: seed ${SEED}, ${operationsOf(document).length} operations, ${statistics.requests} requests, ` +
        `5xx = ${statistics.serverErrors}, rejected writes checked = ${statistics.rejectedWrites}, slowest ${statistics.slowestMs} ms\n` +
        `      statuses: ${statuses.join(', ')}`,
    );
    await service?.stop();
  });

  it('has operations to fuzz', () => {
    expect(operationsOf(document).length).to.be.greaterThan(10);
  });

  // Mocha needs the tests declared before `before` runs: one per operation of the committed document.
  for (const [method, template] of operationsOf(committedDocument())) {
    it(`${method.toUpperCase()} ${template}: never a 5xx, a hang, an undocumented status or a changed database on refusal`, async () => {
      const operation = document.paths[template]![method]!;
      const requests = requestArbitrary(document, method, template, operation, known, Object.keys(callers));
      await fc.assert(
        fc.asyncProperty(requests, async (request) => {
          const before = method === 'get' ? undefined : await writeCounts(service);
          const started = Date.now();
          const response = await send(service.url, request, callers[request.caller]);
          const elapsed = Date.now() - started;
          record(statistics, response.status, elapsed);
          expect(response.status, 'never a 5xx').to.be.below(500);
          expect(elapsed, 'bounded time').to.be.below(REQUEST_TIMEOUT_MS);
          for (const problem of contractProblems(request, response)) expect.fail(problem);
          if (before && response.status >= 400) {
            statistics.rejectedWrites++;
            expect(await writeCounts(service), 'a refused write changes nothing').to.deep.equal(before);
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: process.env.FUZZ_SHRINK === '0' },
      );
    });
  }
});

function operationsOf(document: OpenApiDocument | undefined): [string, string][] {
  if (!document) return [];
  return Object.entries(document.paths).flatMap(([template, operations]) =>
    Object.keys(operations).map((method) => [method, template] as [string, string]),
  );
}

/** The shared contract check of every suite (test/support/contract.ts), on the raw answer. */
function contractProblems(request: FuzzRequest, response: RawResponse): string[] {
  const headers = Object.fromEntries(
    Object.entries(response.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]),
  );
  const violations = contractViolations({
    method: request.method,
    url: request.path.split('?')[0]!,
    status: response.status,
    headers,
    body: response.text,
  });
  // The generic check validates the problem's shape; a problem must also carry the answer's own status.
  if (response.status >= 400 && response.json?.status !== response.status) {
    violations.push(`problem status ${String(response.json?.status)} differs from ${response.status}`);
  }
  return violations;
}

function record(
  statistics: { requests: number; byStatus: Map<number, number>; serverErrors: number; slowestMs: number },
  status: number,
  ms: number,
) {
  statistics.requests++;
  statistics.byStatus.set(status, (statistics.byStatus.get(status) ?? 0) + 1);
  if (status >= 500) statistics.serverErrors++;
  statistics.slowestMs = Math.max(statistics.slowestMs, ms);
}

async function writeCounts(service: TestService): Promise<Record<string, number>> {
  const sql = `select ${WRITE_TABLES.map((table) => `(select count(*)::int from ${table}) as ${table}`).join(', ')}`;
  const [counts] = await rows<Record<string, number>>(service.services, sql);
  return counts!;
}

function send(baseUrl: string, request: FuzzRequest, token: string | undefined): Promise<RawResponse> {
  const query = request.query.map(([key, value]) => `${encodeQueryText(key)}=${encodeQueryText(value)}`).join('&');
  let body: Buffer | undefined = request.body === undefined ? undefined : Buffer.from(request.body);
  if (body && request.bodyEncoding === 'gzip') body = gzipSync(body);
  if (body && request.bodyEncoding === 'corrupt-gzip') body = gzipSync(body).subarray(0, 12);
  const headers = { ...request.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  return rawHttp(baseUrl, {
    method: request.method,
    path: query ? `${request.path}?${query}` : request.path,
    headers: body ? { 'content-length': String(body.length), ...headers } : headers,
    body,
    timeoutMs: REQUEST_TIMEOUT_MS + 1_000,
  });
}

/** A lone surrogate has no UTF-8 form: it travels as the bytes a careless client would send (CESU-8). */
function encodeQueryText(text: string): string {
  let encoded = '';
  // The string iterator yields a lone surrogate on its own, a valid pair as one code point.
  for (const char of text) encoded += /^[\ud800-\udfff]$/.test(char) ? cesu8(char) : encodeURIComponent(char);
  return encoded;
}

const cesu8 = (surrogate: string) => {
  const code = surrogate.charCodeAt(0);
  return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
    .map((byte) => `%${byte.toString(16).toUpperCase()}`)
    .join('');
};

/** Every role in two tenants, and callers without a valid token. */
function callersOf(service: TestService): Record<string, string | undefined> {
  const { config } = service;
  const named: Record<string, string | undefined> = { anonymous: undefined, 'not-a-jwt': 'not.a.jwt' };
  for (const tenant of ['acme', 'globex']) {
    for (const role of ['customer', 'staff', 'admin', 'operator']) {
      named[`${role}@${tenant}`] = tokenFor(config, { sub: `${role}-${tenant}`, tenant, roles: [role] });
    }
    // Allowed nearly everywhere: hostile values then reach handlers and the database, not only authorization.
    named[`every-role@${tenant}`] = tokenFor(config, {
      sub: `customer-${tenant}`,
      tenant,
      roles: ['customer', 'staff', 'admin', 'operator'],
    });
  }
  const now = Math.floor(Date.now() / 1000);
  const base = { sub: 'eve', tenant: 'acme', roles: ['admin'], iss: config.JWT_ISSUER, aud: config.JWT_AUDIENCE };
  named.expired = signRaw(config, { ...base, exp: now - 3600, iat: now - 7200 });
  named['wrong-key'] = signRaw({ ...config, jwt: { ...config.jwt, secret: 'w'.repeat(40) } }, { ...base, exp: now + 600 });
  named['nul-in-claim'] = signRaw(config, { ...base, sub: 'eve\u0000', exp: now + 600 });
  named['future-iat'] = signRaw(config, { ...base, iat: now + 86_400, exp: now + 90_000 });
  return named;
}

/** Products, orders and webhooks in both tenants, so generated ids can name real things. */
async function seed(service: TestService): Promise<KnownIds> {
  const { commands } = service.services;
  const uuids: string[] = [];
  for (const tenant of ['acme', 'globex']) {
    const products = [
      await createProduct(service.services, tenant, { priceCents: 1_250 }),
      await createProduct(service.services, tenant, { priceCents: 100_000_000 }),
    ];
    const customer = principal(`customer-${tenant}`, tenant, ['customer'], { name: 'Ada', email: 'ada@example.com' });
    const order = await commands.placeOrder.handle(customer, { lines: [{ productId: products[0]!, quantity: 2 }] });
    const webhook = await commands.subscribeWebhook.handle(principal(`admin-${tenant}`, tenant, ['admin']), {
      url: 'http://127.0.0.1:9/hooks',
      eventTypes: ['order.paid'],
    });
    uuids.push(...products, order.aggregateId, order.commandId, webhook.aggregateId);
  }
  return { uuids, customerIds: ['customer-acme', 'customer-globex', 'staff-acme'] };
}

function requestArbitrary(
  document: OpenApiDocument,
  method: string,
  template: string,
  operation: Operation,
  known: KnownIds,
  callerNames: string[],
): fc.Arbitrary<FuzzRequest> {
  const parameters = (operation.parameters ?? []).map((parameter) => resolveParameter(document, parameter));
  const values = fc.record(
    Object.fromEntries(
      parameters.map((parameter) => [
        `${parameter.in}:${parameter.name}`,
        validValue(document, parameter.schema, known, parameter.name),
      ]),
    ),
    {
      requiredKeys: parameters.filter((parameter) => parameter.required).map((parameter) => `${parameter.in}:${parameter.name}`),
    },
  );
  const bodySchema = operation.requestBody?.content['application/json']?.schema;
  const body = bodySchema ? validValue(document, bodySchema, known) : fc.constant(undefined);
  const required = resolve(document, bodySchema ?? {}).required ?? [];
  return fc
    .record({
      // Mostly callers with a valid token and unmutated requests, so handlers are reached, not only the edge.
      caller: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...callerNames.filter((name) => name.startsWith('every-role@'))) },
        { weight: 2, arbitrary: fc.constantFrom(...callerNames.filter((name) => name.includes('@'))) },
        { weight: 1, arbitrary: fc.constantFrom(...callerNames.filter((name) => !name.includes('@'))) },
      ),
      values,
      body,
      mutation: fc.oneof(
        { weight: 2, arbitrary: fc.constant<(typeof MUTATIONS)[number]>('none') },
        // Text PostgreSQL cannot store in a path or query parameter: only the edge gate stands in its way.
        { weight: 1, arbitrary: fc.constant<(typeof MUTATIONS)[number]>('parameter-text') },
        { weight: 4, arbitrary: fc.constantFrom(...MUTATIONS.filter((mutation) => mutation !== 'none')) },
      ),
      pick: fc.nat(),
      // Text the database cannot store is the class that reached PostgreSQL most often: drawn as often as all the rest.
      hostile: fc.oneof(fc.constantFrom(...HOSTILE_TEXT), fc.constantFrom(...HOSTILE_VALUES)),
      unstorable: fc.constantFrom(...HOSTILE_TEXT),
      cursor: fc.constantFrom(...FORGED_CURSORS),
      segment: fc.constantFrom(...HOSTILE_SEGMENTS),
    })
    .map((draw) => {
      const request: FuzzRequest = {
        method: method.toUpperCase(),
        path: template,
        query: [],
        headers: { 'x-forwarded-for': '198.51.100.7' },
        caller: draw.caller,
        mutation: draw.mutation,
      };
      let bodyValue: unknown = draw.body;
      for (const [key, value] of Object.entries(draw.values)) {
        if (value === undefined || value === null) continue;
        const [place, name] = key.split(':') as [string, string];
        const text = typeof value === 'string' ? value : JSON.stringify(value);
        if (place === 'path') request.path = request.path.replace(`{${name}}`, encodeURIComponent(text));
        if (place === 'query') request.query.push([name, text]);
        if (place === 'header') request.headers[name.toLowerCase()] = text;
      }
      const hostileText = typeof draw.hostile === 'string' ? draw.hostile : JSON.stringify(draw.hostile);
      switch (draw.mutation) {
        case 'body-field':
          bodyValue = replaceSomewhere(bodyValue ?? {}, draw.pick, draw.hostile, typeof draw.hostile === 'string');
          break;
        case 'body-drop-field':
          if (bodyValue && typeof bodyValue === 'object' && required.length) {
            const { [required[draw.pick % required.length]!]: _dropped, ...rest } = bodyValue as Record<string, unknown>;
            bodyValue = rest;
          }
          break;
        case 'body-unknown-field':
          bodyValue = { ...(bodyValue as object), tenantId: 'globex', [`x${draw.pick % 7}`]: draw.hostile };
          break;
        case 'path-segment': {
          // Only where the template has a parameter: any other segment would name another route.
          const templateSegments = template.split('/');
          const parameters = templateSegments.flatMap((segment, index) => (segment.startsWith('{') ? [index] : []));
          if (!parameters.length) break;
          const segments = request.path.split('/');
          segments[parameters[draw.pick % parameters.length]!] = draw.segment;
          request.path = segments.join('/');
          break;
        }
        case 'parameter-text': {
          // Any declared path or query parameter, generated or not; a cursor gets a forged one.
          const targets = parameters.filter((parameter) => parameter.in === 'path' || parameter.in === 'query');
          const target = targets[draw.pick % Math.max(targets.length, 1)];
          if (!target) break;
          const text = target.name === 'cursor' ? draw.cursor : draw.unstorable;
          if (target.in === 'query') {
            request.query = [...request.query.filter(([name]) => name !== target.name), [target.name, text]];
            break;
          }
          const index = template.split('/').indexOf(`{${target.name}}`);
          const segments = request.path.split('/');
          segments[index] = encodeQueryText(text);
          request.path = segments.join('/');
          break;
        }
        case 'query-value':
          if (request.query.length) request.query[draw.pick % request.query.length]![1] = hostileText;
          else request.query.push(['limit', hostileText]);
          break;
        case 'query-unknown':
          request.query.push([`unknown${draw.pick % 5}`, hostileText]);
          break;
        case 'query-duplicate':
          request.query.push(['limit', '5'], ['limit', '50'], ['cursor', draw.cursor], ['cursor', 'x']);
          break;
        case 'cursor':
          // Instead of a generated cursor: two would be an array, refused before it is decoded.
          request.query = [...request.query.filter(([name]) => name !== 'cursor'), ['cursor', draw.cursor]];
          break;
        case 'content-type':
          request.headers['content-type'] = [
            'text/plain',
            'application/xml',
            'multipart/form-data; boundary=x',
            'application/json; charset=latin1',
            'application/x-www-form-urlencoded',
          ][draw.pick % 5]!;
          break;
        case 'content-encoding':
          request.bodyEncoding = draw.pick % 3 === 0 ? 'gzip' : 'corrupt-gzip';
          request.headers['content-encoding'] = ['gzip', 'gzip', 'deflate', 'br', 'identity, gzip'][draw.pick % 5]!;
          break;
        case 'idempotency-key':
          request.headers['idempotency-key'] = ['k'.repeat(10_000), 'with space', 'ünïcode', '', draw.cursor][draw.pick % 5]!;
          break;
        case 'consistent-with':
          request.headers['consistent-with'] = hostileText.slice(0, 4000).replace(/[^\x20-\x7e]/g, '?');
          request.query.push(['consistentWith', hostileText]);
          break;
      }
      if (bodyValue !== undefined || draw.mutation === 'body-not-json') {
        request.body =
          draw.mutation === 'body-not-json'
            ? ['{"lines":[', 'null', '"text"', '[]', '{"a":1}{'][draw.pick % 5]!
            : JSON.stringify(bodyValue);
        request.headers['content-type'] ??= 'application/json';
      }
      return request;
    });
}
