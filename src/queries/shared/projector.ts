import { DeadlockException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { DomainEvent } from '../../events/index.js';
import { transactionInOneRoundTrip } from '../../platform/db/one-round-trip.js';
import type { Orm } from '../../platform/db/orm.js';
import type { Projection, ProjectionStatement } from './projection.js';

/** Each event of a batch and the projections that applied it (those that had not seen it yet). */
export type BatchOutcome = Array<{ event: DomainEvent; applied: string[] }>;

/**
 * Advisory lock classes (two-key form, so apart from the relay's one-key RELAY_CYCLE_LOCK): a
 * tenant's lock, "proj" in ASCII, and the locks of the keys projections name within a tenant
 * (`Projection.lockKeys`), "prok".
 */
export const PROJECTION_TENANT_LOCK = 0x70726f6a;
export const PROJECTION_KEY_LOCK = 0x70726f6b;

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
   * its locks like any batch (`projectAll` says why they are needed).
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
   * The transaction first takes its locks, in one order, and only then reads anything: for each
   * tenant of the batch, the tenant's lock (shared) and an exclusive lock per key its projections
   * name for its events (`Projection.lockKeys`: a customer, a daily_sales row); a projection that
   * names none takes its tenant's lock exclusively. Two reasons, both about projections of one
   * tenant running at once:
   * - a projection that reads another read model would otherwise miss a change committing
   *   meanwhile, for good: an order projected while its customer's rename commits reads the old
   *   profile, and the rename's statement, whose snapshot predates the order's row, does not rename
   *   it (test/integration/projection-races.test.ts). After the locks each statement's snapshot
   *   includes every earlier commit of the projections that share a key with it;
   * - two batches that write the same rows (a customer's summary, a shared daily_sales row) in
   *   different orders would deadlock on the rows; they wait for each other's key instead, and
   *   keys are always taken in one order. A deadlock with another writer runs the batch again.
   * Projections that share no key run in parallel, within a tenant and across tenants.
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
    const locks = locksOf(work);
    const applied = await retryDeadlocks(this.onDeadlock, () =>
      work.every(({ following }) => inOneStatement(following))
        ? this.projectInOneRoundTrip(locks, work)
        : this.orm.em.fork().transactional((em) => this.projectOneByOne(em, locks, work)),
    );
    // Also for projections that had seen the event: a retry after an after-commit step failed finds
    // the event in the inbox, and must still run the step (a cache invalidation, say).
    for (const { event, following } of work) await afterCommit(event, following);
    return events.map((event) => ({ event, applied: (applied.get(event) ?? []).map((projection) => projection.name) }));
  }

  /**
   * When every event's projections are one statement (`inOneStatement`): the locks and every
   * event's statement in one transaction sent as one query (`transactionInOneRoundTrip`), each
   * statement after the locks with a snapshot of its own. One round trip whatever the batch size,
   * where a MikroORM transaction took one per statement plus BEGIN and COMMIT.
   */
  private async projectInOneRoundTrip(locks: readonly Lock[], work: readonly Work[]): Promise<Applied> {
    const [, ...perEvent] = await transactionInOneRoundTrip(this.orm, [
      lockStatement(locks),
      ...work.map(({ event, following }) => eventStatement(event, following)),
    ]);
    return new Map(work.map(({ event, following }, index) => [event, freshOf(following, perEvent[index]!)]));
  }

  /** Otherwise: the locks, then each event's statement, or its inbox insert and each projection's `apply`. */
  private async projectOneByOne(em: EntityManager, locks: readonly Lock[], work: readonly Work[]): Promise<Applied> {
    const lock = lockStatement(locks);
    await em.execute(lock.sql, lock.params);
    const done: Applied = new Map();
    for (const { event, following } of work)
      done.set(
        event,
        inOneStatement(following)
          ? await this.projectInOneStatement(em, event, following)
          : await this.projectInTransaction(em, event, following),
      );
    return done;
  }

  private async projectInOneStatement(
    em: EntityManager,
    event: DomainEvent,
    following: readonly Projection[],
  ): Promise<Projection[]> {
    const statement = eventStatement(event, following);
    return freshOf(following, await em.execute<{ consumer: string }[]>(statement.sql, statement.params));
  }

  private async projectInTransaction(
    em: EntityManager,
    event: DomainEvent,
    following: readonly Projection[],
  ): Promise<Projection[]> {
    const inbox = inboxInsert(event, following);
    const changed = freshOf(following, await em.execute<{ consumer: string }[]>(inbox.sql, inbox.params));
    for (const projection of changed) await projection.apply(em, event);
    return changed;
  }
}

async function afterCommit(event: DomainEvent, following: readonly Projection[]): Promise<void> {
  for (const projection of following) await projection.afterCommit?.(event);
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

type Work = { event: DomainEvent; following: readonly Projection[] };
/** Each event of a transaction and the projections that applied it. */
type Applied = Map<DomainEvent, Projection[]>;

interface Lock {
  /** PROJECTION_TENANT_LOCK or PROJECTION_KEY_LOCK. */
  lockClass: number;
  /** Hashed into the lock's second key: the tenant, or the tenant and a key. */
  name: string;
  exclusive: boolean;
}

/**
 * A batch's locks. Per tenant: the tenant's lock, shared, and a lock per key its projections named
 * for its events; or only the tenant's lock, exclusive, when one of them named none (it excludes
 * every projection of the tenant, as each takes the tenant's lock too).
 */
function locksOf(work: readonly Work[]): Lock[] {
  const keysByTenant = new Map<string, Set<string> | 'whole tenant'>();
  for (const { event, following } of work)
    for (const projection of following) {
      const named = projection.lockKeys?.(event);
      const keys = keysByTenant.get(event.tenantId);
      if (keys === 'whole tenant') continue;
      if (!named) keysByTenant.set(event.tenantId, 'whole tenant');
      else if (keys) for (const key of named) keys.add(key);
      else keysByTenant.set(event.tenantId, new Set(named));
    }
  return [...keysByTenant].flatMap(([tenant, keys]) =>
    keys === 'whole tenant'
      ? [{ lockClass: PROJECTION_TENANT_LOCK, name: tenant, exclusive: true }]
      : [
          { lockClass: PROJECTION_TENANT_LOCK, name: tenant, exclusive: false },
          ...[...keys].map((key) => ({ lockClass: PROJECTION_KEY_LOCK, name: `${tenant}\u001f${key}`, exclusive: true })),
        ],
  );
}

/**
 * Takes locks in the one order every batch uses (tenants' locks first, then keys', each by hash),
 * so that no two batches wait for each other in a cycle. Two names with one hash are one lock: they
 * wait for each other, nothing worse. Held until the transaction ends.
 */
function lockStatement(locks: readonly Lock[]): ProjectionStatement {
  return {
    sql: `select case when exclusive then pg_advisory_xact_lock(lock_class, hash)
                 else pg_advisory_xact_lock_shared(lock_class, hash) end
       from (select lock_class, hashtext(name) as hash, bool_or(exclusive) as exclusive
               from unnest(array[?]::int[], array[?]::text[], array[?]::bool[]) as wanted(lock_class, name, exclusive)
              group by lock_class, hash
              order by lock_class, hash) ordered`,
    params: [locks.map((lock) => lock.lockClass), locks.map((lock) => lock.name), locks.map((lock) => lock.exclusive)],
  };
}

/**
 * The inbox insert with every projection's statements as data-modifying CTEs, each gated on its
 * own inbox row having been inserted now: PostgreSQL commits (or rolls back) the statement as a
 * whole, and a concurrent delivery of the same event waits on the inbox row and then finds it.
 */
function eventStatement(event: DomainEvent, following: readonly Projection[]): ProjectionStatement {
  const changes: ProjectionStatement[] = following.flatMap((projection) =>
    projection.statements!(event, `exists (select from inbox where consumer = ${literal(projection.name)})`),
  );
  const inbox = inboxInsert(event, following);
  return {
    sql: `with inbox as (${inbox.sql})${changes.map((change, index) => `, change_${index} as (${change.sql})`).join('')}
       select consumer from inbox`,
    params: [...inbox.params, ...changes.flatMap((change) => change.params)],
  };
}

/** The projections whose inbox row the statement inserted now (`returning consumer`): those that had not seen the event. */
function freshOf(following: readonly Projection[], inserted: ReadonlyArray<{ consumer?: unknown }>): Projection[] {
  const fresh = new Set(inserted.map((row) => row.consumer));
  return following.filter((projection) => fresh.has(projection.name));
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
