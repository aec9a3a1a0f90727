import { Body, Controller, Post, Request, Response, Route, Security, SuccessResponse, Tags } from '@tsoa/runtime';
import type { Request as ExpressRequest } from 'express';
import type { Services } from '../../composition-root.js';
import type { Problem } from '../error-handler.js';
import { accepted, principalOf, type CommandAccepted, type Uuid } from './http-shapes.js';

export interface CreateProductBody {
  /**
   * @pattern ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$
   * @example "MUG-BLUE"
   */
  sku: string;
  /**
   * @minLength 1
   * @maxLength 200
   */
  name: string;
  /**
   * Price in minor units (cents).
   * @isInt
   * @minimum 0
   * @maximum 100000000
   */
  priceCents: number;
  /**
   * ISO 4217 code.
   * @pattern ^[A-Z]{3}$
   * @example "EUR"
   */
  currency: string;
}

@Route('v1/products')
@Tags('Products')
@Security('jwt')
export class ProductsController extends Controller {
  constructor(private readonly services: Services) {
    super();
  }

  /** Adds a product to the tenant's catalogue (admin). */
  @Post()
  @SuccessResponse(202, 'Accepted')
  @Response<Problem>(400, 'Invalid body')
  @Response<Problem>(403, 'Not an admin')
  @Response<Problem>(409, 'SKU already used')
  public async createProduct(
    @Request() request: ExpressRequest,
    @Body() body: CreateProductBody,
  ): Promise<CommandAccepted & { productId: Uuid }> {
    const result = await this.services.commands.createProduct.handle(principalOf(request), body);
    return accepted(this, result, 'productId');
  }
}
