import { allows, type AppAbility } from '../../policies/abilities.js';
import type { OrderDto } from './order.dto.js';
import type { OrderView } from './order-view.entity.js';

/** Shapes a row for one caller: staff-only fields appear exactly when the ability allows them. */
export function toOrderDto(view: OrderView, ability: AppAbility): OrderDto {
  const dto: OrderDto = {
    id: view.id,
    status: view.status,
    customer: { id: view.customerId, name: view.customerName, email: view.customerEmail },
    lines: view.lines,
    totalCents: view.totalCents,
    currency: view.currency,
    placedAt: view.placedAt.toISOString(),
    updatedAt: view.updatedAt.toISOString(),
    statusHistory: view.statusHistory,
  };
  if (allows(ability, 'read', 'Order', view, 'internalNote')) dto.internalNote = view.internalNote ?? null;
  if (allows(ability, 'read', 'Order', view, 'riskScore')) dto.riskScore = view.riskScore ?? null;
  return dto;
}
