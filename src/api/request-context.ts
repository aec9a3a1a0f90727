import type { NextFunction, Request, Response } from 'express';
import { newId } from '../platform/ids.js';
import { withLogContext } from '../platform/logger.js';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Gives every request an id (the caller's `X-Request-Id` if sane) carried by every log line. */
export function requestContext(request: Request, response: Response, next: NextFunction): void {
  const offered = request.get('x-request-id');
  const requestId = offered && SAFE_REQUEST_ID.test(offered) ? offered : newId();
  response.set('X-Request-Id', requestId);
  withLogContext({ requestId }, next);
}
