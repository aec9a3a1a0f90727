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

export class OrderTooLargeError extends AppError {
  constructor(what: 'line' | 'order', cents: number, maximum: number, productId?: string) {
    super(
      'unprocessable',
      what === 'line' ? 'order.line-total-too-large' : 'order.total-too-large',
      `The ${what} total would be ${cents} minor units; the most one ${what} may total is ${maximum}`,
      { maximumCents: maximum, ...(productId ? { productId } : {}) },
    );
  }
}
