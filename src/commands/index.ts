import type { Clock } from '../platform/clock.js';
import type { Orm } from '../platform/db/orm.js';
import { CustomerSchema } from './customers/customer.entity.js';
import { OrderSchema } from './orders/order.entity.js';
import { PlaceOrderHandler } from './orders/place-order.handler.js';
import { CreateProductHandler } from './products/create-product.handler.js';
import { ProductSchema } from './products/product.entity.js';
import { CommandRecordSchema } from './shared/command-record.entity.js';
import { CommandRunner } from './shared/command-runner.js';
import { OutboxEventSchema } from './shared/outbox-event.entity.js';

/** The write side's entities, registered with MikroORM by the composition root. */
export const commandEntities = [ProductSchema, CustomerSchema, OrderSchema, OutboxEventSchema, CommandRecordSchema];

/** Every use case that changes state: the table of contents of the write side. */
export interface Commands {
  createProduct: CreateProductHandler;
  placeOrder: PlaceOrderHandler;
}

export function createCommands(orm: Orm, clock: Clock): Commands {
  const runner = new CommandRunner(orm, clock);
  return {
    createProduct: new CreateProductHandler(runner),
    placeOrder: new PlaceOrderHandler(runner),
  };
}
