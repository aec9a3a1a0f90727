import type { DomainEvent } from '../../events/index.js';
import type { Orm } from '../../platform/db/orm.js';
import type { Projection } from './projection.js';

/**
 * Applies an event to every projection that follows its type, guarded by the inbox: the
 * processed_events rows and the read-model changes commit together, so a redelivered event
 * changes nothing.
 */
export class Projector {
  constructor(
    private readonly orm: Orm,
    private readonly projections: readonly Projection[],
  ) {}

  following(type: string): Projection[] {
    return this.projections.filter((projection) => projection.eventTypes.includes(type as never));
  }

  /**
   * Returns the names of the projections that changed (the others had seen the event already).
   * All of them in one transaction with one inbox insert: a failure rolls every one back and the
   * job is retried, so nothing is applied twice or half (fewer round trips than one each).
   */
  async project(event: DomainEvent): Promise<string[]> {
    const following = this.following(event.type);
    if (!following.length) return [];
    const applied = await this.orm.em.fork().transactional(async (em) => {
      const firstTime = await em.execute<{ consumer: string }[]>(
        `insert into processed_events (consumer, event_id, command_id)
         values ${following.map(() => '(?, ?, ?)').join(', ')}
         on conflict do nothing returning consumer`,
        following.flatMap((projection) => [projection.name, event.id, event.commandId]),
      );
      const fresh = new Set(firstTime.map((row) => row.consumer));
      const changed = following.filter((projection) => fresh.has(projection.name));
      for (const projection of changed) await projection.apply(em, event);
      return changed;
    });
    for (const projection of applied) await projection.afterCommit?.(event);
    return applied.map((projection) => projection.name);
  }

  async applyOnce(projection: Projection, event: DomainEvent): Promise<boolean> {
    const applied = await this.orm.em.fork().transactional(async (em) => {
      const firstTime = await em.execute(
        `insert into processed_events (consumer, event_id, command_id) values (?, ?, ?)
         on conflict do nothing returning event_id`,
        [projection.name, event.id, event.commandId],
      );
      if (!firstTime.length) return false;
      await projection.apply(em, event);
      return true;
    });
    if (applied) await projection.afterCommit?.(event);
    return applied;
  }
}
