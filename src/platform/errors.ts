/**
 * Every error the service raises on purpose is an AppError: a stable `code` (part of the public
 * problem `type` URI), a `kind` that the one HTTP error handler maps to a status, and a human
 * `detail`. Nothing outside src/api/error-handler.ts chooses a status code.
 */
export type ErrorKind =
  | 'bad_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'precondition_failed'
  | 'too_many_requests'
  | 'unavailable';

/**
 * Every extension member a problem may carry, typed: the OpenAPI document describes exactly these
 * (the `Problem` schema), so a new one is declared here or it does not compile.
 */
export interface ProblemExtensions {
  /** `request.invalid`: one entry per field that failed validation. */
  errors?: FieldProblem[];
  /** `<resource>.not-found`: what was looked for. */
  resource?: string;
  id?: string;
  /** `request.unstorable-text`: where the text was (a body field, a parameter). */
  field?: string;
  /** `order.product-unavailable`: the products that cannot be ordered. */
  productIds?: string[];
  /** `order.line-total-too-large`, `order.total-too-large`: the limit, and the line's product. */
  maximumCents?: number;
  productId?: string;
  /** `order.invalid-transition`: the order and the status it is in. */
  orderId?: string;
  orderStatus?: string;
  /** `product.duplicate-sku`. */
  sku?: string;
  /** `webhook.target-refused` and `webhook.target-unresolvable`: the target, and why it is refused. */
  url?: string;
  reason?: string;
  /** `service.not-ready` (`/health/ready`, outside `/v1`): each readiness check and its state. */
  checks?: ReadinessChecks;
}

/** Each readiness check of a process and its state (`ok`, or what is wrong). */
export interface ReadinessChecks {
  [check: string]: string;
}

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    readonly detail: string,
    readonly extensions: ProblemExtensions = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

export class NotFoundError extends AppError {
  constructor(resource: string, id: string) {
    super('not_found', `${resource.toLowerCase()}.not-found`, `${resource} ${id} does not exist`, { resource, id });
  }
}

export class ForbiddenError extends AppError {
  constructor(action: string, subject: string) {
    super('forbidden', 'auth.forbidden', `You may not ${action} this ${subject}`);
  }
}

export class UnauthenticatedError extends AppError {
  constructor(detail: string) {
    super('unauthenticated', 'auth.unauthenticated', detail);
  }
}

export interface FieldProblem {
  field: string;
  message: string;
}

export class ValidationError extends AppError {
  constructor(
    readonly fields: FieldProblem[],
    detail = 'The request is not valid',
  ) {
    super('bad_request', 'request.invalid', detail, { errors: fields });
  }
}

/** Readiness refused: draining, or a dependency that gates readiness is down (the probe's 503). */
export class NotReadyError extends AppError {
  constructor(checks: ReadinessChecks) {
    super('unavailable', 'service.not-ready', 'This process is not ready to take traffic; see checks', { checks });
  }
}

/** The caller exceeded its rate limit (429, with Retry-After). */
export class RateLimitedError extends AppError {
  constructor() {
    super('too_many_requests', 'request.rate-limited', 'Too many requests; retry after the time in Retry-After');
  }
}
