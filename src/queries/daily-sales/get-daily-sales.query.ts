import { ForbiddenError, ValidationError } from '../../platform/errors.js';
import { allows } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { Freshness } from '../shared/consistency.js';
import type { Projection } from '../shared/projection.js';
import type { ReadOptions, Reader } from '../shared/read-context.js';
import type { DailySalesReportDto } from './daily-sales.dto.js';

export interface GetDailySales extends ReadOptions {
  /** Inclusive UTC day, YYYY-MM-DD; defaults to 30 days before `to`. */
  from?: string | undefined;
  /** Inclusive UTC day; defaults to today. */
  to?: string | undefined;
}

const MAX_DAYS = 366;
const DAY_MS = 86_400_000;

interface SalesRow {
  day: string;
  currency: string;
  orders_count: number;
  revenue_cents: string;
  refunds_count: number;
  refunded_cents: string;
}

/** The tenant's sales per day and currency (admin): a bounded date range, at most a year. */
export class GetDailySalesQuery {
  constructor(
    private readonly reader: Reader,
    private readonly projection: Projection,
  ) {}

  async handle(
    principal: Principal,
    query: GetDailySales,
    today = new Date(),
  ): Promise<DailySalesReportDto & { freshness: Freshness | null }> {
    const read = await this.reader.open(principal, this.projection, query);
    if (!allows(read.ability, 'read', 'Report', { id: 'daily-sales', tenantId: principal.tenantId }))
      throw new ForbiddenError('read', 'report');
    for (const field of ['from', 'to'] as const) {
      const day = query[field];
      if (day !== undefined && !isCalendarDay(day))
        throw new ValidationError([{ field, message: 'is not a day of the calendar' }]);
    }
    const to = query.to ?? today.toISOString().slice(0, 10);
    const from = query.from ?? new Date(Date.parse(to) - 30 * DAY_MS).toISOString().slice(0, 10);
    const days = (Date.parse(to) - Date.parse(from)) / DAY_MS;
    if (days < 0 || days >= MAX_DAYS)
      throw new ValidationError([{ field: 'from', message: `must be on or before "to", at most ${MAX_DAYS} days earlier` }]);

    const rows = await read.sql<SalesRow>(
      `select to_char(day, 'YYYY-MM-DD') as day, currency, sum(orders_count)::int as orders_count,
              sum(revenue_cents)::bigint as revenue_cents, sum(refunds_count)::int as refunds_count,
              sum(refunded_cents)::bigint as refunded_cents
         from daily_sales where tenant_id = ? and day between ?::date and ?::date
        group by day, currency order by day, currency`,
      [principal.tenantId, from, to],
    );
    const items = rows.map((row) => ({
      day: row.day,
      currency: row.currency,
      ordersCount: row.orders_count,
      revenueCents: Number(row.revenue_cents),
      refundsCount: row.refunds_count,
      refundedCents: Number(row.refunded_cents),
      netCents: Number(row.revenue_cents) - Number(row.refunded_cents),
    }));
    return { from, to, items, freshness: read.freshness };
  }
}

/**
 * `2026-06-31` has the shape of a day but is none (Date.parse rolls it over to July 1st), and
 * PostgreSQL has no year 0; no sale predates 1970, so earlier days are refused too.
 */
function isCalendarDay(day: string): boolean {
  const parsed = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === day && day >= '1970-01-01';
}
