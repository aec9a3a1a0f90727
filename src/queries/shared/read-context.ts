import type { EntityManager } from '@mikro-orm/postgresql';
import type { Orm } from '../../platform/db/orm.js';
import { defineAbilityFor, type AppAbility } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import { ReadYourWrites, type Freshness } from './consistency.js';
import type { Projection } from './projection.js';

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
    const sql = <T>(query: string, params: unknown[]) => em.execute<T[]>(query, params, { connectionType: 'read' });
    return { em, ability: defineAbilityFor(principal), freshness, sql };
  }
}
