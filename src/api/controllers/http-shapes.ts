import type { Controller } from '@tsoa/runtime';
import type { Request } from 'express';
import type { AcceptedCommand } from '../../commands/shared/command-runner.js';
import type { Principal } from '../../policies/principal.js';
import type { Freshness } from '../../queries/shared/consistency.js';

/**
 * A UUID.
 * @pattern ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$
 * @example "0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f"
 */
export type Uuid = string;

/** 202 Accepted: the command is durable; follow `Location` for its outcome. */
export interface CommandAccepted {
  commandId: Uuid;
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
