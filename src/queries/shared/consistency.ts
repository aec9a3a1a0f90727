import { setTimeout as delay } from 'node:timers/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Projection } from './projection.js';

/**
 * What the `Consistency` header of a read with `consistentWith` says: `fresh` (the read reflects the
 * command), `stale` (the wait ran out first) or `unknown-command` (no such command in the tenant).
 */
export const FRESHNESS = ['fresh', 'stale', 'unknown-command'] as const;
export type Freshness = (typeof FRESHNESS)[number];

/**
 * Read-your-writes: waits, up to `maxWaitMs`, until `projection` has processed every event that
 * command `commandId` produced and every earlier event of the aggregates it touched (those the
 * projection follows): the command was decided on that history, so a read consistent with it
 * reflects it too. Without the earlier events, a read after "cancel a paid order" could show the
 * cancellation before the payment (projection jobs of one aggregate may run concurrently).
 * The caller reports the result.
 */
export class ReadYourWrites {
  constructor(private readonly maxWaitMs: number) {}

  async waitFor(em: EntityManager, tenantId: string, commandId: string, projection: Projection): Promise<Freshness> {
    const deadline = Date.now() + this.maxWaitMs;
    for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
      const progress = await this.progress(em, tenantId, commandId, projection);
      if (progress === 'unknown-command' || progress === 0) return progress === 0 ? 'fresh' : progress;
      if (Date.now() + pause > deadline) return 'stale';
      await delay(pause);
    }
  }

  /** Events of the command, or before it on its aggregates, the projection has not processed yet; or 'unknown-command'. */
  private async progress(em: EntityManager, tenantId: string, commandId: string, projection: Projection) {
    const [row] = await em.execute<{ known: boolean; pending: string }[]>(
      `select exists (select 1 from command_log where id = ? and tenant_id = ?) as known,
              (select count(distinct o.id) from outbox_events c
                 join outbox_events o on o.aggregate_type = c.aggregate_type and o.aggregate_id = c.aggregate_id
                                     and o.aggregate_version <= c.aggregate_version
                 where c.command_id = ? and o.type in (?)
                   and not exists (select 1 from processed_events p where p.consumer = ? and p.event_id = o.id)) as pending`,
      [commandId, tenantId, commandId, [...projection.eventTypes], projection.name],
      { connectionType: 'read' },
    );
    if (!row?.known) return (await this.knownToPrimary(em, tenantId, commandId)) ? 1 : ('unknown-command' as const);
    return Number(row.pending);
  }

  /**
   * A replica that lags has not seen a command the client just sent: only the primary can say a
   * command does not exist. Without a replica both connections are the same server.
   */
  private async knownToPrimary(em: EntityManager, tenantId: string, commandId: string): Promise<boolean> {
    const [row] = await em.execute<{ known: boolean }[]>(
      'select exists (select 1 from command_log where id = ? and tenant_id = ?) as known',
      [commandId, tenantId],
      { connectionType: 'write' },
    );
    return Boolean(row?.known);
  }
}
