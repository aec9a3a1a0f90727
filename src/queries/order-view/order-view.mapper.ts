import { subject } from '@casl/ability';
import type { OrderLineSnapshot, OrderStatus, StatusChange } from '../../events/index.js';
import type { AppAbility } from '../../policies/abilities.js';
import { columnsOf } from '../shared/read-context.js';
import type { OrderDto } from './order.dto.js';

/** The order_view columns a condition (an ability, a list filter) may name, by property. */
export const orderViewColumn = columnsOf({
  id: 'id',
  tenantId: 'tenant_id',
  customerId: 'customer_id',
  status: 'status',
  currency: 'currency',
  totalCents: 'total_cents',
  placedAt: 'placed_at',
  updatedAt: 'updated_at',
});

/**
 * One order_view row as the queries select it: timestamps already in the JSON form the API
 * answers with (`Date#toISOString`, millisecond precision), money as bigint text.
 */
export const ORDER_VIEW_SELECT = `select id, tenant_id, customer_id, customer_name, customer_email, lines, total_cents,
    currency, status, status_history, internal_note, risk_score, version, customer_version,
    to_char(placed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as placed_at,
    to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as updated_at
  from order_view`;

export interface OrderViewRow {
  id: string;
  tenant_id: string;
  customer_id: string;
  customer_name: string;
  customer_email: string;
  lines: OrderLineSnapshot[];
  total_cents: string | number;
  currency: string;
  status: OrderStatus;
  status_history: StatusChange[];
  internal_note: string | null;
  risk_score: number | null;
  placed_at: string;
  updated_at: string;
  /** The order's and the customer profile's versions: how the order cache tells a newer row. */
  version: number;
  customer_version: number;
}

/** The row as the ability's conditions and field rules see it: by property name, marked as an Order. */
export function orderSubject(row: OrderViewRow) {
  // Built for the check alone, so it is marked with its subject type in place rather than copied.
  const fields: Record<string, unknown> = {
    id: row.id,
    tenantId: row.tenant_id,
    customerId: row.customer_id,
    status: row.status,
    currency: row.currency,
    totalCents: Number(row.total_cents),
    placedAt: row.placed_at,
    updatedAt: row.updated_at,
  };
  return subject('Order', fields);
}

/** Shapes a row for one caller: staff-only fields appear exactly when the ability allows them. */
export function toOrderDto(row: OrderViewRow, ability: AppAbility, order = orderSubject(row)): OrderDto {
  const dto: OrderDto = {
    id: row.id,
    status: row.status,
    customer: { id: row.customer_id, name: row.customer_name, email: row.customer_email },
    lines: row.lines,
    totalCents: Number(row.total_cents),
    currency: row.currency,
    placedAt: row.placed_at,
    updatedAt: row.updated_at,
    statusHistory: row.status_history,
  };
  if (ability.can('read', order, 'internalNote')) dto.internalNote = row.internal_note;
  if (ability.can('read', order, 'riskScore')) dto.riskScore = row.risk_score;
  return dto;
}
