import { AppError } from '../../platform/errors.js';

export class DuplicateSkuError extends AppError {
  constructor(sku: string) {
    super('conflict', 'product.duplicate-sku', `A product with SKU ${sku} already exists`, { sku });
  }
}
