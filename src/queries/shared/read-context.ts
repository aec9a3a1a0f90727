import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../../platform/db/orm.js';
import { unlessRecorded } from '../../platform/telemetry/unrecorded.js';
import { abilityFor, accessFilter, type Action, type AppAbility, type SubjectType } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import { ReadYourWrites, type Freshness } from './consistency.js';
import type { Projection } from './projection.js';
import { conditionSql, type ColumnOf, type SqlCondition } from './sql-condition.js';

export interface ReadOptions {
  /** A command id the caller wants this read to reflect (read-your-writes). */
  consistentWith?: string | undefined;
}

export interface ReadContext {
  em: EntityManager;
  ability: AppAbility;
  freshness: Freshness | null;
  /** Plain SQL on the read connection (the replica when one is configured). */
  sql<T>(query: string, params: unknown[]): Promise<T[]>;
}

/**
 * Everything a query handler needs: an entity manager on the read connection (the replica when
 * DATABASE_READ_URL is set), the caller's abilities, and the wait for a command when asked.
 */
export class Reader {
  private readonly readYourWrites: ReadYourWrites;

  constructor(
    private readonly orm: Orm,
    maxWaitMs: number,
  ) {
    this.readYourWrites = new ReadYourWrites(maxWaitMs);
  }

  async open(principal: Principal, projection: Projection | null, options: ReadOptions = {}): Promise<ReadContext> {
    // Outside a transaction MikroORM reads from the replica when one is configured.
    const em = this.orm.em.fork() as EntityManager;
    const freshness =
      options.consistentWith && projection
        ? await this.readYourWrites.waitFor(em, principal.tenantId, options.consistentWith, projection)
        : null;
    // An unsampled request's statements run outside its trace: the pg instrumentation then skips
    // the spans (and their attributes) that would never be exported.
    const sql = <T>(query: string, params: unknown[]) =>
      unlessRecorded(() => em.execute<T[]>(query, params, { connectionType: 'read' }));
    return { em, ability: abilityFor(principal), freshness, sql };
  }
}

const accessConditions = new WeakMap<AppAbility, Map<string, SqlCondition | null>>();

/**
 * What `accessFilter` says, as SQL over a read model's columns, for read models queried with
 * plain SQL; `null` when the caller may see none. Kept per ability (abilities are cached per
 * principal), so the rules are translated once. Callers must not change the result.
 */
export function accessSql(ability: AppAbility, action: Action, type: SubjectType, columnOf: ColumnOf): SqlCondition | null {
  let byKey = accessConditions.get(ability);
  if (!byKey) accessConditions.set(ability, (byKey = new Map()));
  const key = `${action} ${type}`;
  if (!byKey.has(key)) {
    const filter = accessFilter(ability, action, type);
    byKey.set(key, filter && conditionSql(filter, columnOf));
  }
  return byKey.get(key)!;
}

/** A ColumnOf over fixed property -> column pairs; a property not listed is an error, never ignored. */
export function columnsOf(columns: Readonly<Record<string, string>>): ColumnOf {
  return (field) => {
    const column = Object.hasOwn(columns, field) ? columns[field] : undefined;
    if (!column) throw new Error(`no column for the condition field ${field}`);
    return column;
  };
}
