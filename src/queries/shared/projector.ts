import type { DomainEvent } from '../../events/index.js';
import type { Orm } from '../../platform/db/orm.js';
import type { Projection } from './projection.js';

/**
 * Applies an event to every projection that follows its type, each in its own transaction
 * guarded by the inbox: the processed_events row and the read-model change commit together,
 * so a redelivered event changes nothing.
 */
export class Projector {
  constructor(
    private readonly orm: Orm,
    private readonly projections: readonly Projection[],
  ) {}

  following(type: string): Projection[] {
    return this.projections.filter((projection) => projection.eventTypes.includes(type as never));
  }

  /** Returns the names of the projections that changed (the others had seen the event already). */
  async project(event: DomainEvent): Promise<string[]> {
    const applied: string[] = [];
    for (const projection of this.following(event.type)) {
      if (await this.applyOnce(projection, event)) applied.push(projection.name);
    }
    return applied;
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
