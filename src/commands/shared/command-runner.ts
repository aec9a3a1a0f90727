import type { EntityManager } from '@mikro-orm/postgresql';
import { eventLogInsert, eventLogInsertFrom, eventLogValues } from '../../events/event-log.js';
import type { NewEvent } from '../../events/index.js';
import type { Clock } from '../../platform/clock.js';
import { insertOf, updateAtVersionOf, type Statement } from '../../platform/db/insert-of.js';
import { statementInOneRoundTrip } from '../../platform/db/one-round-trip.js';
import type { Orm } from '../../platform/db/orm.js';
import { newId } from '../../platform/ids.js';
import { currentTraceCarrier } from '../../platform/telemetry/propagation.js';
import { abilityFor, type AppAbility } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { IdempotencyRequest, IdempotencyStore } from './idempotency.js';

/** What a handler's work sees: one transaction, the caller, its abilities and the event recorder. */
export interface CommandContext {
  readonly em: EntityManager;
  readonly principal: Principal;
  readonly ability: AppAbility;
  readonly commandId: string;
  readonly now: Date;
  record(event: NewEvent): void;
  /**
   * A new aggregate: inserted by the statement that closes the command, with its record and
   * events. It has nothing for the unit of work to compare; changes to loaded aggregates still
   * go through `em` and are flushed before.
   */
  add(aggregate: object): void;
  /**
   * For work run by `runner.create`: what follows writes outside the closing statement (a row
   * created on first sight, say), so the command needs a transaction. Without one this stops the
   * work, and the runner runs it again from the start inside a transaction; inside one it does
   * nothing.
   */
  needsTransaction(): void;
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
    /**
     * Called after a command that recorded events committed: wakes the relay (its NOTIFY is sent
     * after the commit, not in it: src/platform/db/notifier.ts says why). Only a hint: the relay
     * polls for what a lost wake-up leaves behind.
     */
    private readonly wakeRelay: () => void = () => undefined,
  ) {}

  /**
   * The closing statement of a command without a transaction, autocommitted: as the statement
   * PostgreSQL prepared on the connection, so it is parsed and planned once per connection
   * instead of once per command (src/platform/db/one-round-trip.ts).
   */
  private readonly alone: Execute = (sql, params) => statementInOneRoundTrip(this.orm, { sql, params });

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

  /**
   * A command that creates an aggregate from what it reads, written without a transaction: its
   * reads are autocommitted statements and everything it writes goes out in the one statement
   * that closes it (aggregate, command record, events), which is atomic by
   * itself. No pooled connection is held between round trips: a command in a transaction holds
   * one across four, and when the process is short of CPU those holds queue every other command
   * behind the pool. Under READ COMMITTED each statement of a transaction reads its own snapshot
   * anyway, so the decision sees what it would have seen in one. Runs in a transaction as `run`
   * does when the work calls `needsTransaction()` or an Idempotency-Key must be stored with it.
   */
  async create<T extends CommandTarget>(
    type: string,
    principal: Principal,
    work: (context: CommandContext) => Promise<T>,
    options: RunOptions = {},
  ): Promise<T & AcceptedCommand> {
    if (options.idempotency || options.beforeCommit) return this.run(type, principal, work, options);
    return (await this.runAlone(type, principal, work)) ?? this.runOnce(type, principal, work, options);
  }

  /**
   * A command decided on its aggregate as a known event left it (rebuilt from that event: nothing
   * is read) and written in ONE autocommitted statement that applies only while the row is still
   * at that version: the aggregate's row, the command record and its events,
   * all or nothing. Null when the row has moved on and nothing was written: the caller then runs
   * the command the usual way, on the locked row. No idempotency key: for processes, whose
   * redeliveries the version check itself absorbs.
   */
  async runAtVersion<T extends CommandTarget>(
    type: string,
    principal: Principal,
    decide: (context: VersionedCommandContext) => VersionedDecision<T>,
  ): Promise<(T & AcceptedCommand) | null> {
    const commandId = newId();
    const now = this.clock.now();
    const events: NewEvent[] = [];
    const { target, aggregate, expectedVersion } = decide({ commandId, now, record: (event) => events.push(event) });
    const em = this.orm.em.fork();
    const entry = { id: commandId, type, principal, target, now, traceContext: currentTraceCarrier() };
    const applied = await writeJournal(this.alone, entry, [], events, updateAtVersionOf(em, aggregate, expectedVersion));
    if (applied) this.committed(events);
    return applied ? { ...target, commandId } : null;
  }

  /** `create`'s attempt without a transaction; null when the work asked for one (nothing was written). */
  private async runAlone<T extends CommandTarget>(
    type: string,
    principal: Principal,
    work: (context: CommandContext) => Promise<T>,
  ): Promise<(T & AcceptedCommand) | null> {
    const em = this.orm.em.fork();
    const decided = await this.decide(em, type, principal, work, () => {
      throw TRANSACTION_NEEDED;
    }).catch((error: unknown) => {
      if (error === TRANSACTION_NEEDED) return null;
      throw error;
    });
    if (!decided) return null;
    // Nothing is flushed here: a change to a loaded entity would be lost, so it is a bug to make.
    em.getUnitOfWork().computeChangeSets();
    if (em.getUnitOfWork().getChangeSets().length)
      throw new Error(`${type} changed a loaded entity in runner.create: use runner.run, or call needsTransaction() first`);
    await writeJournal(this.alone, decided.entry, decided.inserts(), decided.events);
    this.committed(decided.events);
    return decided.accepted;
  }

  private async runOnce<T extends CommandTarget>(
    type: string,
    principal: Principal,
    work: (context: CommandContext) => Promise<T>,
    options: RunOptions,
  ): Promise<T & AcceptedCommand> {
    const { accepted, events } = await this.orm.em.fork().transactional(async (em) => {
      const decided = await this.decide(em, type, principal, work, () => undefined);
      // Changes to loaded aggregates, through the unit of work.
      await em.flush();
      await writeJournal((sql, params) => em.execute(sql, params), decided.entry, decided.inserts(), decided.events);
      await options.beforeCommit?.(em, decided.accepted);
      return decided;
    });
    this.committed(events);
    return accepted;
  }

  private committed(events: readonly NewEvent[]): void {
    if (events.length) this.wakeRelay();
  }

  /** Runs the work on `em`, collecting what it decides: the events it records and the aggregates it adds. */
  private async decide<T extends CommandTarget>(
    em: EntityManager,
    type: string,
    principal: Principal,
    work: (context: CommandContext) => Promise<T>,
    needsTransaction: () => void,
  ) {
    const commandId = newId();
    const now = this.clock.now();
    const traceContext = currentTraceCarrier();
    const events: NewEvent[] = [];
    const created: object[] = [];
    const target = await work({
      em,
      principal,
      ability: abilityFor(principal),
      commandId,
      now,
      record: (event) => events.push(event),
      add: (aggregate) => created.push(aggregate),
      needsTransaction,
    });
    return {
      entry: { id: commandId, type, principal, target, now, traceContext } satisfies JournalEntry,
      events,
      inserts: () => created.map((aggregate) => insertOf(em, aggregate)),
      accepted: { ...target, commandId } as T & AcceptedCommand,
    };
  }
}

/** Runs one statement: on the command's transaction (`em.execute`), or alone. */
type Execute = (sql: string, params: unknown[]) => Promise<unknown[]>;

/** Thrown by `needsTransaction()` outside a transaction; never leaves the runner. */
const TRANSACTION_NEEDED = Symbol('transaction needed');

/** What a command decided on a known version of its aggregate sees: no transaction, no reads. */
export interface VersionedCommandContext {
  readonly commandId: string;
  readonly now: Date;
  record(event: NewEvent): void;
}

/** The decision: the aggregate as changed, and the version its row must still have for it to apply. */
export interface VersionedDecision<T extends CommandTarget> {
  target: T;
  aggregate: object;
  expectedVersion: number;
}

interface JournalEntry {
  id: string;
  type: string;
  principal: Principal;
  target: CommandTarget;
  now: Date;
  traceContext: Record<string, string> | null;
}

/**
 * The new aggregates, the command record and its outbox rows in one round trip: through the unit of work they
 * were four to six, and the command path is the hottest the service has. With a `guard` (an
 * update of the changed aggregate that may match no row), everything is written only if the
 * guard updated its row: the statement then stands alone, atomic without a transaction.
 * Returns how many rows the guard updated (1 without a guard).
 */
async function writeJournal(
  execute: Execute,
  command: JournalEntry,
  inserts: Statement[],
  events: NewEvent[],
  guard?: Statement,
): Promise<number> {
  const { principal, target } = command;
  const at = command.now.toISOString();
  const commandRow = [command.id, principal.tenantId, principal.id, command.type, target.aggregateType, target.aggregateId, at];
  const eventRows = events.map((event) =>
    eventLogValues({
      id: newId(command.now.getTime()),
      tenant_id: principal.tenantId,
      type: event.type,
      schema_version: event.schemaVersion,
      aggregate_type: event.aggregateType,
      aggregate_id: event.aggregateId,
      aggregate_version: event.aggregateVersion,
      command_id: command.id,
      payload: event.payload,
      trace_context: command.traceContext,
      occurred_at: at,
    }),
  );
  const commandColumns = `command_log (id, tenant_id, principal_id, type, status, aggregate_type, aggregate_id,
       error, created_at, completed_at)`;
  if (guard) {
    const written = events.map((_event, index) => `, event_${index} as (${eventLogInsertFrom('guard')})`).join('');
    const rows = await execute(
      `with guard as (${guard.sql} returning 1),
       command as (insert into ${commandColumns} select ?, ?, ?, ?, 'accepted', ?, ?, null, ?, null from guard)${written}
       select 1 from guard`,
      [...guard.params, ...commandRow, ...eventRows.flat()],
    );
    return rows.length;
  }
  const outbox = events.length ? `, events as (${eventLogInsert(events.length)}) select 1` : ' select 1';
  const aggregates = inserts.map((insert, index) => `aggregate_${index} as (${insert.sql}), `).join('');
  await execute(
    `with ${aggregates}command as (insert into ${commandColumns} values (?, ?, ?, ?, 'accepted', ?, ?, null, ?, null))${outbox}`,
    [...inserts.flatMap((insert) => insert.params), ...commandRow, ...eventRows.flat()],
  );
  return 1;
}
