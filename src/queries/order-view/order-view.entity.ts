import { defineEntity, p } from '@mikro-orm/core';
import type { OrderLineSnapshot, OrderStatus, StatusChange } from '../../events/index.js';

/** The denormalized order, shaped for reading: one row answers GET /v1/orders/{id}. */
export const OrderViewSchema = defineEntity({
  name: 'OrderView',
  tableName: 'order_view',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.text(),
    customerId: p.text(),
    customerName: p.text(),
    customerEmail: p.text(),
    customerVersion: p.integer(),
    lines: p.json<OrderLineSnapshot[]>(),
    totalCents: p.bigint('number'),
    currency: p.text(),
    status: p.text().$type<OrderStatus>(),
    statusHistory: p.json<StatusChange[]>(),
    internalNote: p.text().nullable(),
    riskScore: p.integer().nullable(),
    placedAt: p.datetime(),
    updatedAt: p.datetime(),
    version: p.integer(),
  },
});
export class OrderView extends OrderViewSchema.class {}
OrderViewSchema.setClass(OrderView);
