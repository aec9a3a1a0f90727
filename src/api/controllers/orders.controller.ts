import {
  Body,
  Controller,
  Get,
  Header,
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
import type { OrderStatus } from '../../events/index.js';
import type { OrderDto, OrderListDto } from '../../queries/order-view/order.dto.js';
import type { Problem } from '../error-handler.js';
import {
  accepted,
  idempotency,
  principalOf,
  reportFreshness,
  serialized,
  type OrderAccepted,
  type IdempotencyKey,
  type Uuid,
} from './http-shapes.js';

export interface OrderLineBody {
  productId: Uuid;
  /**
   * @isInt
   * @minimum 1
   * @maximum 1000
   */
  quantity: number;
}

export interface CancelOrderBody {
  /** @maxLength 500 */
  reason?: string;
}

export interface PlaceOrderBody {
  /**
   * @minItems 1
   * @maxItems 100
   */
  lines: OrderLineBody[];
}

@Route('v1/orders')
@Tags('Orders')
@Security('jwt')
export class OrdersController extends Controller {
  constructor(private readonly services: Services) {
    super();
  }

  /**
   * A customer places an order for themself; prices are taken from the catalogue now.
   * @summary Place an order
   */
  @Post()
  @SuccessResponse(202, 'Accepted')
  @Response<Problem>(400, 'Invalid body')
  @Response<Problem>(403, 'Only customers place orders')
  @Response<Problem>(422, 'A product cannot be ordered')
  public async placeOrder(
    @Request() request: ExpressRequest,
    @Body() body: PlaceOrderBody,
    @Header('Idempotency-Key') idempotencyKey?: IdempotencyKey,
  ): Promise<OrderAccepted> {
    const result = await this.services.commands.placeOrder.handle(
      principalOf(request),
      body,
      idempotency(request, idempotencyKey),
    );
    return accepted(this, result, 'orderId');
  }

  /**
   * Cancels an order: customers their own while placed or paid (a paid order is refunded); staff and admin any of the tenant.
   * @summary Cancel an order
   */
  @Post('{orderId}/cancel')
  @SuccessResponse(202, 'Accepted')
  @Response<Problem>(404, 'No such order visible to the caller')
  @Response<Problem>(409, 'The order can no longer be cancelled')
  public async cancelOrder(
    @Request() request: ExpressRequest,
    @Path() orderId: Uuid,
    @Body() body?: CancelOrderBody,
    @Header('Idempotency-Key') idempotencyKey?: IdempotencyKey,
  ): Promise<OrderAccepted> {
    const command = { orderId, reason: body?.reason };
    const result = await this.services.commands.cancelOrder.handle(
      principalOf(request),
      command,
      idempotency(request, idempotencyKey),
    );
    return accepted(this, result, 'orderId');
  }

  /**
   * Ships a paid order (staff, admin).
   * @summary Ship an order
   */
  @Post('{orderId}/ship')
  @SuccessResponse(202, 'Accepted')
  @Response<Problem>(403, 'Customers cannot ship')
  @Response<Problem>(404, 'No such order visible to the caller')
  @Response<Problem>(409, 'The order is not paid')
  public async shipOrder(
    @Request() request: ExpressRequest,
    @Path() orderId: Uuid,
    @Header('Idempotency-Key') idempotencyKey?: IdempotencyKey,
  ): Promise<OrderAccepted> {
    const result = await this.services.commands.shipOrder.handle(
      principalOf(request),
      { orderId },
      idempotency(request, idempotencyKey),
    );
    return accepted(this, result, 'orderId');
  }

  /**
   * One order from the order_view read model. With `consistentWith` (or the `Consistent-With`
   * header) the read waits, bounded, until it reflects that command; the `Consistency` response
   * header says whether it does.
   * @summary Read an order
   */
  @Get('{orderId}')
  @Response<Problem>(404, 'No such order visible to the caller')
  public async getOrder(
    @Request() request: ExpressRequest,
    @Path() orderId: Uuid,
    @Query() consistentWith?: Uuid,
    @Header('Consistent-With') consistentWithHeader?: Uuid,
  ): Promise<OrderDto> {
    const result = await this.services.queries.getOrder.handle(principalOf(request), orderId, {
      consistentWith: consistentWith ?? consistentWithHeader,
    });
    reportFreshness(this, result.freshness);
    return result.order;
  }

  /**
   * Orders the caller may see, newest first, a keyset page at a time.
   * @summary List orders
   * @param limit Page size.
   * @isInt limit must be a whole number
   * @minimum limit 1 must be between 1 and 100
   * @maximum limit 100 must be between 1 and 100
   * @param sort `-placedAt` (newest first, default) or `placedAt`.
   */
  @Get()
  public async listOrders(
    @Request() request: ExpressRequest,
    @Query() limit = 20,
    @Query() cursor?: string,
    @Query() status?: OrderStatus,
    @Query() customerId?: string,
    @Query() placedFrom?: Date,
    @Query() placedTo?: Date,
    @Query() sort?: 'placedAt' | '-placedAt',
    @Query() consistentWith?: Uuid,
    @Header('Consistent-With') consistentWithHeader?: Uuid,
  ): Promise<OrderListDto> {
    const { freshness, page } = await this.services.queries.listOrders.handle(principalOf(request), {
      limit,
      cursor,
      status,
      customerId,
      placedFrom,
      placedTo,
      sort,
      consistentWith: consistentWith ?? consistentWithHeader,
    });
    reportFreshness(this, freshness);
    return serialized(page);
  }
}
