import { DeadlockException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { DomainEvent } from '../../events/index.js';
import type { Orm } from '../../platform/db/orm.js';
import type { Projection, ProjectionStatement } from './projection.js';

/** Each event of a batch and the projections that applied it (those that had not seen it yet). */
export type BatchOutcome = Array<{ event: DomainEvent; applied: string[] }>;

/**
 * The advisory lock class of a batch's tenant locks (two-key form, so apart from the relay's
 * one-key RELAY_CYCLE_LOCK): "proj" in ASCII.
 */
export const PROJECTION_TENANT_LOCK = 0x70726f6a;

/** A batch that deadlocked (40P01) is run again this many times before the caller sees the error. */
export const DEADLOCK_RETRIES = 3;

/**
 * Applies an event to every projection that follows it, guarded by the inbox: the
 * processed_events rows and the read-model changes commit together, so a redelivered event
 * changes nothing.
 */
export class Projector {
  constructor(
    private readonly orm: Orm,
    private readonly projections: readonly Projection[],
    /** Told of every deadlock a batch ran into (and is run again after). */
    private readonly onDeadlock: (error: Error) => void = () => {},
  ) {}

  following(type: string): Projection[] {
    return this.projections.filter((projection) => projection.eventTypes.includes(type as never));
  }

  /**
   * Returns the names of the projections that changed (the others had seen the event already).
   * All of them commit together with their inbox rows: a failure rolls every one back and the job
   * is retried, so nothing is applied twice or half. A lone event is a batch of one: it waits for
   * its tenant's lock like any batch (`projectAll` says why that lock is needed).
   */
  async project(event: DomainEvent): Promise<string[]> {
    const [outcome] = await this.projectAll([event]);
    return outcome!.applied;
  }

  /**
   * Applies several events in one transaction (one commit, one WAL flush), inbox rows included:
   * all of them or none. Each event's projections are one statement when they are all SQL and no
   * two share a table, otherwise statements of the same transaction.
   *
   * The transaction first takes a lock per tenant of the batch, in one order, and only then reads
   * anything. Two reasons, both about projections of one tenant running at once:
   * - a projection that reads another read model would otherwise miss a change committing
   *   meanwhile, for good: an order projected while its customer's rename commits reads the old
   *   profile, and the rename's statement, whose snapshot predates the order's row, does not rename
   *   it (test/integration/projection-races.test.ts). After the lock each statement's snapshot
   *   includes every earlier commit of the tenant's projections;
   * - two batches touching the same rows (a tenant's daily_sales rows, a customer's summary) in
   *   different orders wait for each other instead of deadlocking. A deadlock with another writer
   *   runs the batch again.
   * Tenants' projections still run in parallel; one tenant's are applied one transaction at a time.
   */
  async projectAll(events: readonly DomainEvent[]): Promise<BatchOutcome> {
    return this.inBatch(events, (event) => this.following(event.type));
  }

  /** Applies one event to one projection; false when that projection had seen it already. */
  async applyOnce(projection: Projection, event: DomainEvent): Promise<boolean> {
    const [outcome] = await this.projectAllFor(projection, [event]);
    return outcome!.applied.length > 0;
  }

  /** One projection's part of `projectAll` (rebuilds replay one projection). */
  async projectAllFor(projection: Projection, events: readonly DomainEvent[]): Promise<BatchOutcome> {
    return this.inBatch(events, () => [projection]);
  }

  private async inBatch(
    events: readonly DomainEvent[],
    followers: (event: DomainEvent) => readonly Projection[],
  ): Promise<BatchOutcome> {
    const work = events.map((event) => ({ event, following: followers(event) })).filter((item) => item.following.length);
    if (!work.length) return events.map((event) => ({ event, applied: [] }));
    const tenants = [...new Set(work.map((item) => item.event.tenantId))].sort();
    const applied = await retryDeadlocks(this.onDeadlock, () =>
      this.orm.em.fork().transactional(async (em) => {
        await em.execute(
          `select pg_advisory_xact_lock(${PROJECTION_TENANT_LOCK}, key)
             from (select distinct hashtext(tenant) as key from unnest(array[?]::text[]) tenant order by key) keys`,
          [tenants],
        );
        const done = new Map<DomainEvent, Projection[]>();
        for (const { event, following } of work)
          done.set(
            event,
            inOneStatement(following)
              ? await this.projectInOneStatement(em, event, following)
              : await this.projectInTransaction(em, event, following),
          );
        return done;
      }),
    );
    for (const [event, projections] of applied) await afterCommit(event, projections);
    return events.map((event) => ({ event, applied: (applied.get(event) ?? []).map((projection) => projection.name) }));
  }

  /**
   * The inbox insert with every projection's statements as data-modifying CTEs, each gated on its
   * own inbox row having been inserted now: PostgreSQL commits (or rolls back) the statement as a
   * whole, and a concurrent delivery of the same event waits on the inbox row and then finds it.
   */
  private async projectInOneStatement(
    executor: Pick<EntityManager, 'execute'> | ReturnType<EntityManager['getConnection']>,
    event: DomainEvent,
    following: readonly Projection[],
  ): Promise<Projection[]> {
    const changes: ProjectionStatement[] = following.flatMap((projection) =>
      projection.statements!(event, `exists (select from inbox where consumer = ${literal(projection.name)})`),
    );
    const inbox = inboxInsert(event, following);
    const rows = await executor.execute<{ consumer: string }[]>(
      `with inbox as (${inbox.sql})${changes.map((change, index) => `, change_${index} as (${change.sql})`).join('')}
       select consumer from inbox`,
      [...inbox.params, ...changes.flatMap((change) => change.params)],
    );
    const fresh = new Set(rows.map((row) => row.consumer));
    return following.filter((projection) => fresh.has(projection.name));
  }

  private async projectInTransaction(
    em: EntityManager,
    event: DomainEvent,
    following: readonly Projection[],
  ): Promise<Projection[]> {
    const inbox = inboxInsert(event, following);
    const firstTime = await em.execute<{ consumer: string }[]>(inbox.sql, inbox.params);
    const fresh = new Set(firstTime.map((row) => row.consumer));
    const changed = following.filter((projection) => fresh.has(projection.name));
    for (const projection of changed) await projection.apply(em, event);
    return changed;
  }
}

async function afterCommit(event: DomainEvent, applied: readonly Projection[]): Promise<void> {
  for (const projection of applied) await projection.afterCommit?.(event);
}

async function retryDeadlocks<T>(onDeadlock: (error: Error) => void, work: () => Promise<T>): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await work();
    } catch (error) {
      const deadlock = error instanceof DeadlockException || (error as { code?: unknown }).code === '40P01';
      if (!deadlock) throw error;
      onDeadlock(error as Error);
      if (retry >= DEADLOCK_RETRIES) throw error;
    }
  }
}

function inboxInsert(event: DomainEvent, following: readonly Projection[]): ProjectionStatement {
  return {
    sql: `insert into processed_events (consumer, event_id, command_id)
          values ${following.map(() => '(?, ?, ?)').join(', ')}
          on conflict do nothing returning consumer`,
    params: following.flatMap((projection) => [projection.name, event.id, event.commandId]),
  };
}

/** CTEs of one statement must not write the same rows: only projections with tables of their own combine. */
function inOneStatement(following: readonly Projection[]): boolean {
  const tables = following.flatMap((projection) => projection.tables);
  return following.every((projection) => projection.statements) && new Set(tables).size === tables.length;
}

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
