import type { NextFunction, Request, Response } from 'express';
import { entityTag, JsonBody } from '../platform/json-body.js';

/**
 * Conditional GETs (RFC 9110 13.1.2): every 200 answer to a GET carries a strong `ETag` over its
 * body, and a request whose `If-None-Match` lists that tag is answered 304 without a body.
 * The origin server evaluates `If-None-Match` whatever the request's `Cache-Control` says:
 * `no-cache` (which fetch() adds to any request carrying a manual `If-None-Match`) is addressed to
 * caches (RFC 9111 5.2.1.4). Express's own check skips validation on `no-cache`, so the app turns
 * Express's ETags off and this middleware owns them; other methods and statuses get none. A body
 * serialized ahead (`JsonBody`, a cached page) is sent with the tag it was serialized with.
 */
export function conditionalGet(request: Request, response: Response, next: NextFunction): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') return next();
  const json = response.json.bind(response);
  response.json = (body: unknown) => {
    if (response.statusCode !== 200) return json(body);
    const serialized = body instanceof JsonBody;
    const text = serialized ? body.bytes : JSON.stringify(body);
    const tag = serialized ? body.tag : entityTag(text);
    response.set('ETag', tag);
    if (listsTag(request.get('If-None-Match'), tag)) return response.status(304).end();
    if (!response.get('Content-Type')) response.type('application/json');
    return response.send(text);
  };
  next();
}

/** `*`, or a list of entity tags compared weakly (a `W/` prefix does not matter for GET). */
function listsTag(ifNoneMatch: string | undefined, tag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === tag);
}
