import type { EntityManager } from '@mikro-orm/postgresql';
import type { DomainEvent, DomainEventType } from '../../events/index.js';
import type { Statement } from '../../platform/db/one-round-trip.js';

/** One SQL statement of a projection's change (`?` placeholders, as `em.execute` takes them). */
export type ProjectionStatement = Statement;

/**
 * A read model's projection: which events it follows and how each changes its tables.
 * `apply` must be safe to run on any event order; redelivery is filtered out by the inbox
 * (processed_events) before `apply` is called, in the same transaction.
 */
export interface Projection {
  /** Consumer name, recorded in processed_events; also the name used by rebuilds. */
  readonly name: string;
  readonly eventTypes: readonly DomainEventType[];
  /** Tables this projection owns; a rebuild empties them first. */
  readonly tables: readonly string[];
  apply(em: EntityManager, event: DomainEvent): Promise<void>;
  /**
   * The same change as `apply`, as statements that take effect only where the SQL condition
   * `when` holds (the projector passes "this event is new to this projection"). Lets the projector
   * apply the inbox and every projection of an event in one statement (sqlProjection below).
   */
  statements?(event: DomainEvent, when: string): ProjectionStatement[];
  /**
   * What this event's change shares with other events' changes of its tenant, as keys (any text,
   * within the tenant): the projector never runs two transactions that hold a key in common at
   * the same time. Name every row the change reads that another event's change writes (order_view
   * reads the customer's profile: the customer) and every row it writes that another event's change
   * writes too (a counter shared by many orders), coarser if that is simpler. Without it the change
   * takes its whole tenant: always safe, and that tenant's projections then run one at a time
   * while it waits or holds it.
   */
  lockKeys?(event: DomainEvent): string[];
  /**
   * After the change committed: invalidate caches and the like. Never undoes `apply`. Runs after
   * every commit that carried the event, also when the projection had seen it before, so a
   * delivery retried because this step failed runs it again: it must be safe to repeat.
   */
  afterCommit?(event: DomainEvent): Promise<void>;
}

/**
 * A projection written as SQL statements: `apply` runs them one after the other, and the projector
 * may run them as data-modifying CTEs of the inbox insert (one round trip, no BEGIN/COMMIT). The
 * statements of one event all see the database as it was before the event (one snapshot), so
 * none may read what another writes; each must change something (INSERT, UPDATE, DELETE: a plain
 * SELECT in a CTE is never run), keep the projection's own guard (an inbox-protected delta, or a
 * version check) and put `when` in its WHERE clause.
 */
export function sqlProjection(
  definition: Omit<Projection, 'apply' | 'statements'> & Required<Pick<Projection, 'statements'>>,
): Projection {
  return {
    ...definition,
    async apply(em, event) {
      for (const { sql, params } of definition.statements(event, 'true')) await em.execute(sql, params);
    },
  };
}
