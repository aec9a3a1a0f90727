import type { OrderStatus } from '../../events/index.js';
import { JsonBody } from '../../platform/json-body.js';
import type { Principal } from '../../policies/principal.js';
import type { Freshness } from '../shared/consistency.js';
import { decodeTimeIdCursor, encodeCursor } from '../shared/keyset.js';
import { accessSql, type ReadOptions, type Reader } from '../shared/read-context.js';
import { conditionSql } from '../shared/sql-condition.js';
import type { OrderListDto } from './order.dto.js';
import type { OrderViewCache } from './order-view.cache.js';
import { ORDER_VIEW_SELECT, orderViewColumn, toOrderDto, type OrderViewRow } from './order-view.mapper.js';
import { orderViewProjection } from './order-view.projection.js';

export interface ListOrders extends ReadOptions {
  limit: number;
  cursor?: string | undefined;
  status?: OrderStatus | undefined;
  customerId?: string | undefined;
  placedFrom?: Date | undefined;
  placedTo?: Date | undefined;
  /** Newest first by default. */
  sort?: 'placedAt' | '-placedAt' | undefined;
}

export interface OrderListPage {
  /** The page (`OrderListDto`) as JSON, with its entity tag. */
  page: JsonBody<OrderListDto>;
  freshness: Freshness | null;
}

/**
 * Orders the caller may see, a keyset page at a time. The ability becomes part of the WHERE
 * clause, so rows the caller may not see are never loaded; one plain SQL statement per page.
 * The page is serialized once and kept in the order cache for this caller and query until any
 * order of the tenant changes (see OrderViewCache); a read consistent with a command always asks
 * PostgreSQL, and refreshes the kept page.
 */
export class ListOrdersQuery {
  constructor(
    private readonly reader: Reader,
    private readonly cache: OrderViewCache,
  ) {}

  async handle(principal: Principal, query: ListOrders): Promise<OrderListPage> {
    const key = pageKey(principal, query);
    const cached = query.consistentWith ? undefined : this.cache.getPage(key);
    if (cached) return { page: cached, freshness: null };

    const ticket = this.cache.pageTicket();
    const page = await this.read(principal, query);
    this.cache.fillPage(ticket, principal.tenantId, key, page.page);
    return page;
  }

  private async read(principal: Principal, query: ListOrders): Promise<OrderListPage> {
    const { ability, freshness, sql } = await this.reader.open(principal, orderViewProjection, query);
    const visible = accessSql(ability, 'read', 'Order', orderViewColumn);
    if (!visible) return { page: JsonBody.of<OrderListDto>({ items: [], nextCursor: null }), freshness };

    const direction = query.sort === 'placedAt' ? 'asc' : 'desc';
    const filters = conditionSql({ $and: [filtersOf(query), afterCursor(query.cursor, direction)] }, orderViewColumn);
    const rows = await sql<OrderViewRow>(
      `${ORDER_VIEW_SELECT} where ${visible.sql} and ${filters.sql}
        order by placed_at ${direction}, id ${direction} limit ?`,
      [...visible.params, ...filters.params, query.limit + 1],
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    const nextCursor = rows.length > query.limit && last ? encodeCursor([last.placed_at, last.id]) : null;
    const items = page.map((row) => toOrderDto(row, ability));
    return { page: JsonBody.of<OrderListDto>({ items, nextCursor }), freshness };
  }
}

/** The caller (tenant, id, roles: all its ability depends on) and every input of the page. */
function pageKey(principal: Principal, query: ListOrders): string {
  return JSON.stringify([
    principal.tenantId,
    principal.id,
    principal.roles,
    query.limit,
    query.cursor ?? null,
    query.status ?? null,
    query.customerId ?? null,
    query.placedFrom?.getTime() ?? null,
    query.placedTo?.getTime() ?? null,
    query.sort ?? null,
  ]);
}

function filtersOf(query: ListOrders): object {
  return {
    ...(query.status ? { status: query.status } : {}),
    ...(query.customerId ? { customerId: query.customerId } : {}),
    ...(query.placedFrom || query.placedTo
      ? {
          placedAt: {
            ...(query.placedFrom ? { $gte: query.placedFrom } : {}),
            ...(query.placedTo ? { $lt: query.placedTo } : {}),
          },
        }
      : {}),
  };
}

/** Rows strictly after the cursor's (placedAt, id) in the page order. */
function afterCursor(cursor: string | undefined, direction: 'asc' | 'desc'): object {
  if (!cursor) return {};
  const { at: placedAt, id } = decodeTimeIdCursor(cursor);
  const beyond = direction === 'desc' ? '$lt' : '$gt';
  return { $or: [{ placedAt: { [beyond]: placedAt } }, { placedAt, id: { [beyond]: id } }] };
}
