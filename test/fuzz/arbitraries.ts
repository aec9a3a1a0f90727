import fc from 'fast-check';
import { encodeCursor } from '../../src/queries/shared/keyset.js';

/** The parts of an OpenAPI 3 document the fuzzer reads. */
export interface Schema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  nullable?: boolean;
}
export interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: Schema;
}
export interface Operation {
  operationId?: string;
  parameters?: (Parameter | { $ref: string })[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
  responses: Record<string, unknown>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; parameters?: Record<string, Parameter> };
}

/** One request as generated: printed as the counterexample when a property fails. */
export interface FuzzRequest {
  method: string;
  /** Sent byte for byte: it may hold broken percent-encoding on purpose. */
  path: string;
  query: [string, string][];
  headers: Record<string, string>;
  /** Raw body text (JSON, usually); `gzip` marks a body to compress before sending. */
  body?: string;
  bodyEncoding?: 'gzip' | 'corrupt-gzip';
  caller: string;
  mutation: string;
}

/** Ids of things that exist, so valid requests reach handlers instead of stopping at 404. */
export interface KnownIds {
  uuids: string[];
  customerIds: string[];
}

const UUID_PATTERN = '^[0-9a-fA-F]{8}-';

/** Values a hostile caller tries in place of any field. */
export const HOSTILE_VALUES: unknown[] = [
  0,
  -1,
  2 ** 31,
  2 ** 31 - 1,
  2 ** 53,
  -(2 ** 53),
  1e308,
  -1e308,
  1.5,
  'NaN',
  'Infinity',
  '-0',
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  'x\ud800y',
  '\udfff',
  'x'.repeat(50_000),
  '2026-06-31',
  '0000-01-01',
  '+275760-09-13T00:00:00.000Z',
  '+275760-09-14T00:00:00.000Z',
  '-000001-01-01T00:00:00Z',
  '1970-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '../../etc/passwd',
  "' or 1=1 --",
  '{"$gt":""}',
  '%00',
  '%ZZ',
  '\u202e',
  '😀',
  true,
  null,
  [],
  {},
  [null],
  { $ne: null },
];

/** Strings PostgreSQL cannot store, or that stress it: each must be refused at the edge (400). */
export const HOSTILE_TEXT = ['a\u0000b', '\u0000', 'x\ud800y', '\udfff', 'ok\udc00', `${'y'.repeat(20_000)}\u0000`];

/** Base64url cursors of well-formed but hostile keys (the shape ours have, other contents). */
export const FORGED_CURSORS = [
  encodeCursor(['MUG\u0000']),
  encodeCursor(['x'.repeat(10_000)]),
  encodeCursor([1e308]),
  encodeCursor([2 ** 53]),
  encodeCursor(['+275760-09-13T00:00:00.000Z', '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f']),
  encodeCursor(['0000-01-01T00:00:00.000Z', '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f']),
  encodeCursor(['-000001-01-01T00:00:00.000Z', '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f']),
  encodeCursor(['2026-06-31T00:00:00.000Z', '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f']),
  encodeCursor(['2026-01-01T00:00:00.000Z', 'not-a-uuid']),
  encodeCursor(['2026-01-01T00:00:00.000Z', '\ud800']),
  Buffer.from(JSON.stringify([{ $gt: '' }])).toString('base64url'),
  encodeCursor([]),
  Buffer.from('not json').toString('base64url'),
  Buffer.from('[1,2,3]').toString('base64url'),
  '!!!',
];

/** Malformed or hostile path segments, raw (not encoded again). */
export const HOSTILE_SEGMENTS = [
  '%E0%A4%A',
  '%ZZ',
  '%ED%A0%80',
  '%C0%AF',
  '%00',
  'a%00b',
  '%FF',
  '..',
  '%2e%2e',
  'x'.repeat(5000),
];

/** Shared parameters (`If-None-Match` on every GET) are `$ref`s into components.parameters. */
export function resolveParameter(document: OpenApiDocument, parameter: Parameter | { $ref: string }): Parameter {
  if (!('$ref' in parameter)) return parameter;
  return document.components.parameters![parameter.$ref.replace('#/components/parameters/', '')]!;
}

export function resolve(document: OpenApiDocument, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  return resolve(document, document.components.schemas[schema.$ref.replace('#/components/schemas/', '')]!);
}

/** A value valid against `schema` (as far as the document says), biased towards ids that exist. */
export function validValue(document: OpenApiDocument, raw: Schema, known: KnownIds, name = ''): fc.Arbitrary<unknown> {
  const schema = resolve(document, raw);
  const nullable = schema.nullable ? (arbitrary: fc.Arbitrary<unknown>) => fc.option(arbitrary, { nil: null }) : <T>(a: T) => a;
  if (schema.enum) return nullable(fc.constantFrom(...schema.enum));
  const variants = schema.allOf ?? schema.anyOf ?? schema.oneOf;
  if (variants) return fc.oneof(...variants.map((variant) => validValue(document, variant, known, name)));
  switch (schema.type) {
    case 'integer':
      return nullable(fc.integer({ min: schema.minimum ?? -(2 ** 31), max: schema.maximum ?? 2 ** 31 - 1 }));
    case 'number':
      return nullable(fc.double({ min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9, noNaN: true }));
    case 'boolean':
      return nullable(fc.boolean());
    case 'array': {
      const items = validValue(document, schema.items ?? {}, known, name);
      return nullable(fc.array(items, { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 5, 5) }));
    }
    case 'object':
      return nullable(validObject(document, schema, known));
    case 'string':
      return nullable(validString(schema, known, name));
    default:
      return fc.anything();
  }
}

function validObject(document: OpenApiDocument, schema: Schema, known: KnownIds): fc.Arbitrary<Record<string, unknown>> {
  const required = new Set(schema.required ?? []);
  const fields = Object.entries(schema.properties ?? {});
  const record = Object.fromEntries(fields.map(([key, value]) => [key, validValue(document, value, known, key)]));
  return fc.record(record, { requiredKeys: fields.map(([key]) => key).filter((key) => required.has(key)) });
}

function validString(schema: Schema, known: KnownIds, name: string): fc.Arbitrary<string> {
  if (schema.pattern?.startsWith(UUID_PATTERN) || schema.format === 'uuid')
    return fc.oneof(fc.constantFrom(...known.uuids), fc.uuid());
  if (/customerId/i.test(name)) return fc.constantFrom(...known.customerIds);
  if (schema.format === 'date-time')
    return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.format === 'date')
    return fc
      .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10));
  if (/url/i.test(name))
    return fc.constantFrom('https://hooks.example.com/x', 'http://127.0.0.1:9/hooks', 'https://[::1]/h', 'ftp://x');
  if (schema.pattern) {
    try {
      return fc.stringMatching(new RegExp(schema.pattern)).filter((text) => withinLength(schema, text));
    } catch {
      // a pattern fast-check cannot generate from: fall through to plain strings
    }
  }
  return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) });
}

const withinLength = (schema: Schema, text: string) =>
  text.length >= (schema.minLength ?? 0) && text.length <= (schema.maxLength ?? Number.POSITIVE_INFINITY);

/**
 * Replaces the value at a random path of a JSON value (or the whole value) with `replacement`;
 * with `stringsFirst`, a string leaf when there is one (text reaches the database through them).
 */
export function replaceSomewhere(value: unknown, pick: number, replacement: unknown, stringsFirst = false): unknown {
  const all = pathsOf(value);
  const strings = all.filter((path) => typeof valueAt(value, path) === 'string');
  const paths = stringsFirst && strings.length ? strings : all;
  const path = paths[pick % paths.length]!;
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string, unknown>;
  let target: Record<string, unknown> = copy;
  for (const step of path.slice(0, -1)) target = target[step] as Record<string, unknown>;
  target[path.at(-1)!] = replacement;
  return copy;
}

function valueAt(value: unknown, path: string[]): unknown {
  return path.reduce<unknown>((at, step) => (at as Record<string, unknown> | undefined)?.[step], value);
}

function pathsOf(value: unknown, prefix: string[] = []): string[][] {
  const here = [prefix];
  if (Array.isArray(value)) return [...here, ...value.flatMap((item, index) => pathsOf(item, [...prefix, String(index)]))];
  if (value && typeof value === 'object') {
    return [...here, ...Object.entries(value).flatMap(([key, item]) => pathsOf(item, [...prefix, key]))];
  }
  return here;
}
