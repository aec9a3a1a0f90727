import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../platform/errors.js';
import { firstUnstorableText } from '../platform/storable-text.js';

/**
 * The one gate for text the service cannot store or even read: every path, query string, header
 * and body passes here (JWT claims pass the same check in authentication.ts), so a NUL byte,
 * a lone surrogate or broken percent-encoding is a 400 at the edge instead of a PostgreSQL
 * error (500) deep inside a handler.
 */
export class UnstorableTextError extends AppError {
  constructor(where: string) {
    super(
      'bad_request',
      'request.unstorable-text',
      `${where} contains text that cannot be stored (a NUL character or invalid Unicode)`,
      { field: where },
    );
  }
}

export class MalformedPathError extends AppError {
  constructor() {
    super('bad_request', 'request.malformed-path', 'The request path is not valid percent-encoded UTF-8');
  }
}

/** Path, query string and headers: runs before routing, so no route ever sees them unchecked. */
export function rejectUnreadableRequest(request: Request, _response: Response, next: NextFunction): void {
  next(unreadablePart(request));
}

function unreadablePart(request: Request): AppError | undefined {
  const path = decodedPath(request.path);
  if (path === null) return new MalformedPathError();
  if (firstUnstorableText(path)) return new UnstorableTextError('The request path');
  const inQuery = firstUnstorableText(request.query);
  if (inQuery) return new UnstorableTextError(`Query parameter ${inQuery}`);
  const inHeaders = firstUnstorableText(request.headers);
  if (inHeaders) return new UnstorableTextError(`Header ${inHeaders}`);
  return undefined;
}

function decodedPath(path: string): string | null {
  try {
    return decodeURIComponent(path);
  } catch {
    return null;
  }
}

/** The parsed body (JSON or form): after the body parser, before validation and handlers. */
export function rejectUnstorableBody(request: Request, _response: Response, next: NextFunction): void {
  const inBody = firstUnstorableText(request.body);
  next(inBody ? new UnstorableTextError(`Body field ${inBody}`) : undefined);
}
