import type { DomainEvent } from '../../events/index.js';
import type { Orm } from '../../platform/db/orm.js';
import type { Projection, ProjectionStatement } from './projection.js';

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
   * All of them commit together with their inbox rows: a failure rolls every one back and the job
   * is retried, so nothing is applied twice or half. When every one is written as SQL
   * (sqlProjection) and no two share a table, that is one statement; otherwise one transaction.
   */
  async project(event: DomainEvent): Promise<string[]> {
    const following = this.following(event.type);
    if (!following.length) return [];
    const applied = inOneStatement(following)
      ? await this.projectInOneStatement(event, following)
      : await this.projectInTransaction(event, following);
    for (const projection of applied) await projection.afterCommit?.(event);
    return applied.map((projection) => projection.name);
  }

  async applyOnce(projection: Projection, event: DomainEvent): Promise<boolean> {
    const applied = projection.statements
      ? await this.projectInOneStatement(event, [projection])
      : await this.projectInTransaction(event, [projection]);
    for (const done of applied) await done.afterCommit?.(event);
    return applied.length > 0;
  }

  /**
   * The inbox insert with every projection's statements as data-modifying CTEs, each gated on its
   * own inbox row having been inserted now: PostgreSQL commits (or rolls back) the statement as a
   * whole, and a concurrent delivery of the same event waits on the inbox row and then finds it.
   */
  private async projectInOneStatement(event: DomainEvent, following: readonly Projection[]): Promise<Projection[]> {
    const changes: ProjectionStatement[] = following.flatMap((projection) =>
      projection.statements!(event, `exists (select from inbox where consumer = ${literal(projection.name)})`),
    );
    const inbox = inboxInsert(event, following);
    const rows = await this.orm.em.getConnection('write').execute<{ consumer: string }[]>(
      `with inbox as (${inbox.sql})${changes.map((change, index) => `, change_${index} as (${change.sql})`).join('')}
       select consumer from inbox`,
      [...inbox.params, ...changes.flatMap((change) => change.params)],
    );
    const fresh = new Set(rows.map((row) => row.consumer));
    return following.filter((projection) => fresh.has(projection.name));
  }

  private async projectInTransaction(event: DomainEvent, following: readonly Projection[]): Promise<Projection[]> {
    return this.orm.em.fork().transactional(async (em) => {
      const inbox = inboxInsert(event, following);
      const firstTime = await em.execute<{ consumer: string }[]>(inbox.sql, inbox.params);
      const fresh = new Set(firstTime.map((row) => row.consumer));
      const changed = following.filter((projection) => fresh.has(projection.name));
      for (const projection of changed) await projection.apply(em, event);
      return changed;
    });
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
