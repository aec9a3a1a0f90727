import {
  Body,
  Controller,
  Get,
  Header,
  Patch,
  Path,
  Post,
  Query,
  Request,
  Response,
  Route,
  Security,
  SuccessResponse,
  Tags,
} from '@tsoa/runtime';
import type { Request as ExpressRequest } from 'express';
import type { Services } from '../../composition-root.js';
import type { ProductDto, ProductListDto } from '../../queries/product-catalog/product.dto.js';
import type { Problem } from '../error-handler.js';
import {
  accepted,
  idempotency,
  principalOf,
  reportFreshness,
  requireSomeField,
  type ProductAccepted,
  type IdempotencyKey,
  type Uuid,
} from './http-shapes.js';

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

/** Any of the fields; the SKU and currency never change. */
export interface UpdateProductBody {
  /**
   * @minLength 1
   * @maxLength 200
   */
  name?: string;
  /**
   * @isInt
   * @minimum 0
   * @maximum 100000000
   */
  priceCents?: number;
  active?: boolean;
}

@Route('v1/products')
@Tags('Products')
@Security('jwt')
export class ProductsController extends Controller {
  constructor(private readonly services: Services) {
    super();
  }

  /**
   * Adds a product to the tenant's catalogue (admin).
   * @summary Create a product
   */
  @Post()
  @SuccessResponse(202, 'Accepted')
  @Response<Problem>(400, 'Invalid body')
  @Response<Problem>(403, 'Not an admin')
  @Response<Problem>(409, 'SKU already used')
  public async createProduct(
    @Request() request: ExpressRequest,
    @Body() body: CreateProductBody,
    @Header('Idempotency-Key') idempotencyKey?: IdempotencyKey,
  ): Promise<ProductAccepted> {
    const result = await this.services.commands.createProduct.handle(
      principalOf(request),
      body,
      idempotency(request, idempotencyKey),
    );
    return accepted(this, result, 'productId');
  }

  /**
   * Renames, reprices or (de)activates a product (admin). Orders already placed keep their prices.
   * @summary Change a product
   */
  @Patch('{productId}')
  @SuccessResponse(202, 'Accepted')
  @Response<Problem>(400, 'Invalid body')
  @Response<Problem>(403, 'Not an admin')
  @Response<Problem>(404, 'No such product in the tenant')
  public async updateProduct(
    @Request() request: ExpressRequest,
    @Path() productId: Uuid,
    @Body() body: UpdateProductBody,
    @Header('Idempotency-Key') idempotencyKey?: IdempotencyKey,
  ): Promise<ProductAccepted> {
    requireSomeField(body);
    const command = { productId, ...body };
    const result = await this.services.commands.updateProduct.handle(
      principalOf(request),
      command,
      idempotency(request, idempotencyKey),
    );
    return accepted(this, result, 'productId');
  }

  /**
   * One product: active ones for every member of the tenant, inactive ones for admins. With
   * `consistentWith` the read waits, bounded, until it reflects that command.
   * @summary Read a product
   */
  @Get('{productId}')
  @Response<Problem>(404, 'No such product visible to the caller')
  public async getProduct(
    @Request() request: ExpressRequest,
    @Path() productId: Uuid,
    @Query() consistentWith?: Uuid,
    @Header('Consistent-With') consistentWithHeader?: Uuid,
  ): Promise<ProductDto> {
    const { product, freshness } = await this.services.queries.getProduct.handle(principalOf(request), productId, {
      consistentWith: consistentWith ?? consistentWithHeader,
    });
    reportFreshness(this, freshness);
    return product;
  }

  /**
   * The tenant's catalogue ordered by SKU: active products for every member, inactive ones too for admins.
   * @summary List products
   * @isInt limit must be a whole number
   * @minimum limit 1 must be between 1 and 100
   * @maximum limit 100 must be between 1 and 100
   */
  @Get()
  public async listProducts(
    @Request() request: ExpressRequest,
    @Query() limit = 20,
    @Query() cursor?: string,
    @Query() consistentWith?: Uuid,
    @Header('Consistent-With') consistentWithHeader?: Uuid,
  ): Promise<ProductListDto> {
    const { freshness, ...page } = await this.services.queries.listProducts.handle(principalOf(request), {
      limit,
      cursor,
      consistentWith: consistentWith ?? consistentWithHeader,
    });
    reportFreshness(this, freshness);
    return page;
  }
}
