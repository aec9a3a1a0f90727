import { AppError } from '../../platform/errors.js';
import type { OrderStatus } from '../../events/index.js';

export class ProductUnavailableError extends AppError {
  constructor(productIds: string[]) {
    super('unprocessable', 'order.product-unavailable', `These products cannot be ordered: ${productIds.join(', ')}`, {
      productIds,
    });
  }
}

export class MixedCurrenciesError extends AppError {
  constructor(currencies: string[]) {
    super('unprocessable', 'order.mixed-currencies', `An order has one currency; these lines use ${currencies.join(', ')}`);
  }
}

export class InvalidOrderTransitionError extends AppError {
  constructor(orderId: string, from: OrderStatus, action: string) {
    super('conflict', 'order.invalid-transition', `Order ${orderId} is ${from} and cannot be ${action}`, {
      orderId,
      orderStatus: from,
    });
  }
}
