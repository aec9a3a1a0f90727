import { ValidateError } from '@tsoa/runtime';
import type { NextFunction, Request, Response } from 'express';
import { isDatabaseUnavailable } from '../platform/db/unavailable.js';
import { AppError, NotReadyError, type ErrorKind, type ProblemExtensions } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';

/** The only place in the service that chooses an HTTP status for an error. */
const STATUS: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  unprocessable: 422,
  too_many_requests: 429,
  unavailable: 503,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** RFC 9457 problem details, as every error is answered (`application/problem+json`). */
export interface Problem extends ProblemExtensions {
  /**
   * Stable per error: `/problems/<code>` (listed per operation in docs/api.md).
   * @example "/problems/order.not-found"
   */
  type: string;
  title: string;
  /** @isInt */
  status: number;
  detail?: string;
  /** The path of the request that failed. */
  instance?: string;
}

/** Stable, documented problem types: `/problems/<code>` (listed per operation in docs/api.md). */
export const problemType = (code: string): string => `/problems/${code}`;

export function problemOf(error: unknown): Problem {
  if (error instanceof AppError) {
    const status = STATUS[error.kind];
    // Extensions first: a domain field can never overwrite a standard member such as `status`.
    return { ...error.extensions, type: problemType(error.code), title: TITLES[status]!, status, detail: error.detail };
  }
  if (error instanceof ValidateError) {
    const errors = Object.entries(error.fields).map(([field, problem]) => ({
      field: field.replace(/\.\$(\d+)/g, '[$1]'),
      message: problem.message,
    }));
    return { type: problemType('request.invalid'), title: TITLES[400]!, status: 400, detail: 'The request is not valid', errors };
  }
  const bodyError = bodyParserProblem(error);
  if (bodyError) return bodyError;
  if (isDatabaseUnavailable(error)) {
    return {
      type: problemType('database.unavailable'),
      title: TITLES[503]!,
      status: 503,
      detail: 'The database could not be reached; retry later (commands with the same Idempotency-Key apply once)',
    };
  }
  return { type: problemType('internal'), title: TITLES[500]!, status: 500, detail: 'An unexpected error occurred' };
}

/**
 * Client errors raised by Express and its body parsers (http-errors with a 4xx `status`):
 * malformed JSON, a body too large, an unsupported charset or Content-Encoding, a compressed body
 * that does not inflate, a path the router cannot decode. Their own messages stay internal.
 */
function bodyParserProblem(error: unknown): Problem | null {
  const { type, status } = (error ?? {}) as { type?: string; status?: unknown };
  if (typeof status !== 'number' || status < 400 || status >= 500) return null;
  const known: Record<string, [number, string, string]> = {
    'entity.parse.failed': [400, 'request.malformed-json', 'The request body is not valid JSON'],
    'entity.too.large': [413, 'request.too-large', 'The request body is too large'],
    'encoding.unsupported': [415, 'request.unsupported-encoding', 'The request body encoding is not supported'],
    'charset.unsupported': [415, 'request.unsupported-charset', 'The request body charset is not supported'],
    'request.size.invalid': [400, 'request.invalid-length', 'The request body does not match its Content-Length'],
    'request.aborted': [400, 'request.aborted', 'The request body ended early'],
  };
  const [code, slug, detail] = known[type ?? ''] ?? [
    TITLES[status] ? status : 400,
    'request.unreadable',
    'The request could not be read (its encoding, compression or path is malformed)',
  ];
  return { type: problemType(slug), title: TITLES[code] ?? 'Bad Request', status: code, detail };
}

export function sendProblem(response: Response, problem: Problem, instance?: string): void {
  if (problem.status === 401) response.set('WWW-Authenticate', 'Bearer');
  if (problem.status === 503) response.set('Retry-After', '1');
  response
    .status(problem.status)
    .type('application/problem+json')
    .send(JSON.stringify({ ...problem, ...(instance ? { instance } : {}) }));
}

export function errorHandler(logger: Logger) {
  return (error: unknown, request: Request, response: Response, _next: NextFunction): void => {
    const problem = problemOf(error);
    // A refused readiness probe is the probe working (draining, or an outage alerted on its own).
    if (error instanceof NotReadyError) logger.debug('not ready', { checks: error.extensions.checks });
    // An unreachable dependency is an outage (alerted on its own), not a bug: no stack per request.
    else if (problem.status === 503)
      logger.warn('request failed: dependency unavailable', { error: String(error), path: request.path });
    else if (problem.status >= 500) logger.error('request failed', { error: describe(error), path: request.path });
    else logger.debug('request refused', { status: problem.status, type: problem.type });
    if (response.headersSent) return;
    sendProblem(response, problem, instanceOf(request));
  };
}

function describe(error: unknown): Record<string, unknown> {
  return error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : { value: String(error) };
}

export function notFoundHandler(request: Request, response: Response): void {
  sendProblem(
    response,
    {
      type: problemType('route.not-found'),
      title: TITLES[404]!,
      status: 404,
      detail: `No route for ${request.method} ${request.path}`,
    },
    instanceOf(request),
  );
}

/** The problem's `instance`: the path only. A query string may carry tokens that must not be echoed. */
function instanceOf(request: Request): string {
  return request.originalUrl.split('?')[0]!;
}

/**
 * Node's HTTP parser refuses some requests before Express sees them (headers or URL over the
 * size limit, bytes that are not HTTP): the raw answer for the server's `clientError` event, so
 * those too get a problem+json instead of an empty 400 or 431.
 */
export function clientErrorResponse(error: NodeJS.ErrnoException): string {
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify({
    type: problemType(tooLarge ? 'request.headers-too-large' : 'request.malformed-http'),
    title: TITLES[status],
    status,
    detail: tooLarge ? 'The request line and headers are larger than the server accepts' : 'The request is not valid HTTP',
  });
  return [
    `HTTP/1.1 ${status} ${TITLES[status]}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}
