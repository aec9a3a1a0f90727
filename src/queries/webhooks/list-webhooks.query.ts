import type { FilterQuery } from '@mikro-orm/core';
import { ForbiddenError } from '../../platform/errors.js';
import { accessFilter } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import { decodeTimeIdCursor, encodeCursor } from '../shared/keyset.js';
import type { Reader } from '../shared/read-context.js';
import type { WebhookListDto } from './webhook.dto.js';
import { WebhookListing } from './webhook-listing.entity.js';
import { toWebhookDto } from './webhook-listing.mapper.js';

export interface ListWebhooks {
  limit: number;
  cursor?: string | undefined;
}

/**
 * The webhook subscriptions the caller may see (an admin: their tenant's), newest first, a keyset
 * page at a time. Roles that may see none are refused rather than shown an empty list.
 */
export class ListWebhooksQuery {
  constructor(private readonly reader: Reader) {}

  async handle(principal: Principal, query: ListWebhooks): Promise<WebhookListDto> {
    const { em, ability } = await this.reader.open(principal, null);
    const visible = accessFilter<WebhookListing>(ability, 'read', 'Webhook');
    if (!visible) throw new ForbiddenError('list', "tenant's webhooks");

    const rows = await em.find(
      WebhookListing,
      { $and: [visible, afterCursor(query.cursor)] },
      { orderBy: { createdAt: 'desc', id: 'desc' }, limit: query.limit + 1 },
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    const nextCursor = rows.length > query.limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null;
    return { items: page.map(toWebhookDto), nextCursor };
  }
}

/** Rows strictly after the cursor's (createdAt, id), newest first. */
function afterCursor(cursor: string | undefined): FilterQuery<WebhookListing> {
  if (!cursor) return {};
  const { at: createdAt, id } = decodeTimeIdCursor(cursor);
  return { $or: [{ createdAt: { $lt: createdAt } }, { createdAt, id: { $lt: id } }] };
}
