import { NotFoundError } from '../../platform/errors.js';
import { allows } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { Projection } from '../shared/projection.js';
import type { ReadContext, Reader } from '../shared/read-context.js';
import type { CommandDto, CommandLinks, CommandState } from './command.dto.js';

interface CommandRow {
  id: string;
  tenant_id: string;
  principal_id: string;
  type: string;
  status: CommandState;
  aggregate_type: string | null;
  aggregate_id: string | null;
  error: CommandDto['error'];
  // Raw queries return timestamps as ISO strings.
  created_at: string;
  completed_at: string | null;
}

/** Where each aggregate is read: every link resolves to a GET of the API (tested). */
const RESOURCE_LINKS: Record<string, { name: keyof CommandLinks; path: (id: string) => string }> = {
  Order: { name: 'order', path: (id) => `/v1/orders/${id}` },
  Product: { name: 'product', path: (id) => `/v1/products/${id}` },
  // A customer's read model is their summary; the profile itself shows in their order views.
  Customer: { name: 'customer', path: (id) => `/v1/customers/${encodeURIComponent(id)}/summary` },
  Webhook: { name: 'webhook', path: (id) => `/v1/webhooks/${id}` },
};

/**
 * A command has `succeeded` once every read model that follows its events has processed them;
 * until then it is `accepted`. `failed` is recorded when its events end in a dead-letter queue.
 */
export class GetCommandStatusQuery {
  constructor(
    private readonly reader: Reader,
    private readonly projections: readonly Projection[],
  ) {}

  async handle(principal: Principal, commandId: string): Promise<CommandDto> {
    const read = await this.reader.open(principal, null);
    const [row] = await read.sql<CommandRow>('select * from command_log where id = ?', [commandId]);
    const command = row && { tenantId: row.tenant_id, principalId: row.principal_id, id: row.id };
    if (!row || !command || !allows(read.ability, 'read', 'Command', command)) throw new NotFoundError('Command', commandId);

    const progress = row.status === 'failed' ? null : await this.progress(read, commandId);
    const status: CommandState = row.status === 'failed' ? 'failed' : progress?.pending ? 'accepted' : 'succeeded';
    const completedAt =
      status === 'failed' ? row.completed_at : status === 'succeeded' ? (progress?.lastProcessedAt ?? row.created_at) : null;
    const iso = (text: string) => new Date(text).toISOString();
    return {
      id: row.id,
      type: row.type,
      status,
      createdAt: iso(row.created_at),
      completedAt: completedAt ? iso(completedAt) : null,
      links: linksOf(row),
      error: row.error,
    };
  }

  /** (event, projection) pairs still to process, and when the last one was processed. */
  private async progress(read: ReadContext, commandId: string) {
    const events = await read.sql<{ id: string; type: string }>('select id, type from outbox_events where command_id = ?', [
      commandId,
    ]);
    const processed = await read.sql<{ consumer: string; event_id: string; processed_at: string }>(
      'select consumer, event_id, processed_at from processed_events where command_id = ?',
      [commandId],
    );
    const done = new Set(processed.map((p) => `${p.consumer}/${p.event_id}`));
    const required = events.flatMap((event) =>
      this.projections.filter((p) => p.eventTypes.includes(event.type as never)).map((p) => `${p.name}/${event.id}`),
    );
    const lastProcessedAt = processed.reduce<string | null>(
      (latest, p) => (!latest || Date.parse(p.processed_at) > Date.parse(latest) ? p.processed_at : latest),
      null,
    );
    return { pending: required.filter((key) => !done.has(key)).length, lastProcessedAt };
  }
}

function linksOf(row: CommandRow): CommandLinks {
  const links: CommandLinks = { self: `/v1/commands/${row.id}` };
  const resource = row.aggregate_type ? RESOURCE_LINKS[row.aggregate_type] : undefined;
  if (resource && row.aggregate_id) links[resource.name] = resource.path(row.aggregate_id);
  return links;
}
