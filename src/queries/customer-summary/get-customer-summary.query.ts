import type { OrderStatus } from '../../events/index.js';
import { NotFoundError } from '../../platform/errors.js';
import { allows } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { Freshness } from '../shared/consistency.js';
import type { Projection } from '../shared/projection.js';
import type { ReadOptions, Reader } from '../shared/read-context.js';
import type { CustomerSummaryDto } from './customer-summary.dto.js';

const STATUSES: OrderStatus[] = ['placed', 'paid', 'shipped', 'payment_failed', 'expired', 'cancelled'];

interface SummaryRow {
  orders_count: number;
  count_by_status: Record<string, number>;
  lifetime_value: Record<string, number>;
  last_order_id: string | null;
  last_order_at: string | null;
}

/** A customer's summary: the customer themself, or staff and admin of the tenant. */
export class GetCustomerSummaryQuery {
  constructor(
    private readonly reader: Reader,
    private readonly projection: Projection,
  ) {}

  async handle(
    principal: Principal,
    customerId: string,
    options?: ReadOptions,
  ): Promise<{ summary: CustomerSummaryDto; freshness: Freshness | null }> {
    const read = await this.reader.open(principal, this.projection, options);
    const subject = { id: customerId, tenantId: principal.tenantId, customerId };
    if (!allows(read.ability, 'read', 'CustomerSummary', subject)) throw new NotFoundError('Customer', customerId);

    // A customer with a profile but no orders has an all-zero row; an unknown one has none.
    const [row] = await read.sql<SummaryRow>(
      `select orders_count, count_by_status, lifetime_value, last_order_id, last_order_at
         from customer_summary where tenant_id = ? and customer_id = ?`,
      [principal.tenantId, customerId],
    );
    if (!row) throw new NotFoundError('Customer', customerId);
    return { summary: toSummaryDto(customerId, row), freshness: read.freshness };
  }
}

function toSummaryDto(customerId: string, row: SummaryRow): CustomerSummaryDto {
  const counts = row.count_by_status;
  return {
    customerId,
    ordersCount: row.orders_count,
    countByStatus: Object.fromEntries(STATUSES.map((status) => [status, Number(counts[status] ?? 0)])) as Record<
      OrderStatus,
      number
    >,
    lifetimeValue: Object.fromEntries(
      Object.entries(row.lifetime_value)
        .filter(([, cents]) => Number(cents) !== 0)
        .map(([c, cents]) => [c, Number(cents)]),
    ),
    lastOrder:
      row.last_order_id && row.last_order_at
        ? { id: row.last_order_id, placedAt: new Date(row.last_order_at).toISOString() }
        : null,
  };
}
