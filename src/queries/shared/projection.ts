import type { EntityManager } from '@mikro-orm/postgresql';
import type { DomainEvent, DomainEventType } from '../../events/index.js';

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
  /** After the change committed: invalidate caches and the like. Best effort; never undoes `apply`. */
  afterCommit?(event: DomainEvent): Promise<void>;
}
