import type { Controller } from '@tsoa/runtime';
import type { Request } from 'express';
import { createHash } from 'node:crypto';
import type { AcceptedCommand, RunOptions } from '../../commands/shared/command-runner.js';
import { ValidationError } from '../../platform/errors.js';
import type { JsonBody } from '../../platform/json-body.js';
import type { Principal } from '../../policies/principal.js';
import type { Freshness } from '../../queries/shared/consistency.js';

/**
 * A UUID.
 * @pattern ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$
 * @example "0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f"
 */
export type Uuid = string;

/**
 * A client-chosen key making a command safe to retry: the same key and request replay the first
 * answer; the same key with another request is 422; while the first is running, 409. Kept 24 h.
 * @pattern ^[\x21-\x7E]{1,255}$
 * @example "order-2026-11-26-0001"
 */
export type IdempotencyKey = string;

/** 202 Accepted: the command is durable; follow `Location` for its outcome. */
export interface CommandAccepted {
  commandId: Uuid;
}

// One named body per aggregate (not `CommandAccepted & {...}`): an intersection becomes `allOf`,
// and a strict validator then refuses the id that `additionalProperties: false` on one part forbids.
export interface OrderAccepted extends CommandAccepted {
  orderId: Uuid;
}
export interface ProductAccepted extends CommandAccepted {
  productId: Uuid;
}
export interface ProfileAccepted extends CommandAccepted {
  /** The customer's id: the `sub` of their token. */
  customerId: string;
}
export interface WebhookAccepted extends CommandAccepted {
  webhookId: Uuid;
}

/** What the command runner needs to honour an Idempotency-Key: the key and a hash of the request. */
export function idempotency(request: Request, key: IdempotencyKey | undefined): RunOptions {
  if (!key) return {};
  const canonical = `${request.method} ${request.baseUrl}${request.path}\n${canonicalJson(request.body)}`;
  return { idempotency: { key, requestHash: createHash('sha256').update(canonical).digest('hex') } };
}

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function principalOf(request: Request): Principal {
  return request.user!;
}

/** 202 with `Location: /v1/commands/{id}` and the id of the aggregate under `<name>Id`. */
export function accepted<K extends string>(
  controller: Controller,
  result: AcceptedCommand,
  idName: K,
): CommandAccepted & Record<K, string> {
  controller.setStatus(202);
  controller.setHeader('Location', `/v1/commands/${result.commandId}`);
  return { commandId: result.commandId, [idName]: result.aggregateId } as CommandAccepted & Record<K, string>;
}

/** Tells the client whether a `consistentWith` read reflects its command (read-your-writes). */
export function reportFreshness(controller: Controller, freshness: Freshness | null): void {
  if (freshness) controller.setHeader('Consistency', freshness);
}

/** For PATCH-style bodies whose fields are all optional: an empty body is a client error. */
export function requireSomeField(body: object): void {
  if (Object.keys(body).length === 0) throw new ValidationError([{ field: 'body', message: 'must change at least one field' }]);
}

/**
 * A body serialized ahead, answered as the `T` the operation declares: the conditional-GET
 * middleware (every GET passes it) sends its bytes and entity tag as they are, and
 * `JSON.stringify` gives the same JSON through `JsonBody#toJSON`.
 */
export function serialized<T>(body: JsonBody<T>): T {
  return body as unknown as T;
}
