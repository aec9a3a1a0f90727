import type { EntityManager } from '@mikro-orm/postgresql';
import { OUTBOX_CHANNEL } from '../../events/event-log.js';
import type { NewEvent } from '../../events/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/orm.js';
import { newId } from '../../platform/ids.js';
import { currentTraceCarrier } from '../../platform/telemetry/propagation.js';
import { defineAbilityFor, type AppAbility } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import { CommandRecord } from './command-record.entity.js';
import type { IdempotencyRequest, IdempotencyStore } from './idempotency.js';
import { OutboxEvent } from './outbox-event.entity.js';

/** What a handler's work sees: one transaction, the caller, its abilities and the event recorder. */
export interface CommandContext {
  readonly em: EntityManager;
  readonly principal: Principal;
  readonly ability: AppAbility;
  readonly commandId: string;
  readonly now: Date;
  record(event: NewEvent): void;
}

/** The aggregate a command created or changed. */
export interface CommandTarget {
  aggregateType: string;
  aggregateId: string;
}

export interface AcceptedCommand extends CommandTarget {
  commandId: string;
}

export interface RunOptions {
  /** The caller's Idempotency-Key: a repeat of the same request replays the first result. */
  idempotency?: IdempotencyRequest | undefined;
  /** Runs inside the command's transaction just before commit. */
  beforeCommit?: (em: EntityManager, accepted: AcceptedCommand) => Promise<void>;
}

/**
 * Runs a command's work in one PostgreSQL transaction together with its outbox events and its
 * command record, so a command is either entirely accepted (and its events will be published)
 * or has left no trace. The write path needs PostgreSQL only.
 */
export class CommandRunner {
  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
    private readonly idempotency: IdempotencyStore,
  ) {}

  async run<T extends CommandTarget>(
    type: string,
    principal: Principal,
    work: (context: CommandContext) => Promise<T>,
    options: RunOptions = {},
  ): Promise<T & AcceptedCommand> {
    if (!options.idempotency) return this.runOnce(type, principal, work, options);
    const claimed = await this.idempotency.claim<T & AcceptedCommand>(principal, options.idempotency);
    if ('replay' in claimed) return claimed.replay;
    const { claim } = claimed;
    const remember = async (em: EntityManager, accepted: AcceptedCommand) => {
      await options.beforeCommit?.(em, accepted);
      await this.idempotency.complete(em, claim, accepted);
    };
    return this.runOnce(type, principal, work, { beforeCommit: remember }).catch(async (error: unknown) => {
      await this.idempotency.release(claim);
      throw error;
    });
  }

  private async runOnce<T extends CommandTarget>(
    type: string,
    principal: Principal,
    work: (context: CommandContext) => Promise<T>,
    options: RunOptions,
  ): Promise<T & AcceptedCommand> {
    const commandId = newId();
    const now = this.clock.now();
    const traceContext = currentTraceCarrier();
    return this.orm.em.fork().transactional(async (em) => {
      const events: NewEvent[] = [];
      const ability = defineAbilityFor(principal);
      const target = await work({ em, principal, ability, commandId, now, record: (event) => events.push(event) });

      em.create(CommandRecord, {
        id: commandId,
        tenantId: principal.tenantId,
        principalId: principal.id,
        type,
        status: 'accepted',
        aggregateType: target.aggregateType,
        aggregateId: target.aggregateId,
        error: null,
        createdAt: now,
        completedAt: null,
      });
      for (const event of events) {
        em.create(OutboxEvent, {
          ...event,
          id: newId(now.getTime()),
          tenantId: principal.tenantId,
          commandId,
          payload: event.payload as Record<string, unknown>,
          traceContext,
          occurredAt: now,
          publishedAt: null,
        });
      }
      await em.flush();
      // Delivered by PostgreSQL only if this transaction commits.
      if (events.length) await em.execute(`select pg_notify('${OUTBOX_CHANNEL}', '')`);
      const accepted = { ...target, commandId };
      await options.beforeCommit?.(em, accepted);
      return accepted;
    });
  }
}
