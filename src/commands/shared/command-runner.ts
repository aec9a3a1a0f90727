import type { EntityManager } from '@mikro-orm/postgresql';
import type { NewEvent } from '../../events/index.js';
import type { Clock } from '../../platform/clock.js';
import type { Orm } from '../../platform/db/orm.js';
import { newId } from '../../platform/ids.js';
import { currentTraceCarrier } from '../../platform/telemetry/propagation.js';
import { defineAbilityFor, type AppAbility } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import { CommandRecord } from './command-record.entity.js';
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
  /** Runs inside the command's transaction just before commit (used to store idempotent replies). */
  beforeCommit?: (em: EntityManager, accepted: AcceptedCommand) => Promise<void>;
}

/** Name of the PostgreSQL channel that wakes the outbox relay. */
export const OUTBOX_CHANNEL = 'outbox_events';

/**
 * Runs a command's work in one PostgreSQL transaction together with its outbox events and its
 * command record, so a command is either entirely accepted (and its events will be published)
 * or has left no trace. The write path needs PostgreSQL only.
 */
export class CommandRunner {
  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
  ) {}

  async run(
    type: string,
    principal: Principal,
    work: (context: CommandContext) => Promise<CommandTarget>,
    options: RunOptions = {},
  ): Promise<AcceptedCommand> {
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
      const accepted = { commandId, ...target };
      await options.beforeCommit?.(em, accepted);
      return accepted;
    });
  }
}
