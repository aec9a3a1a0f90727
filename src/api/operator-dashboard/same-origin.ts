import type { NextFunction, Request, Response } from 'express';
import { CrossOriginRefusedError } from './dashboard.errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF protection for the dashboard's cookie-authenticated actions: a request that changes
 * anything must come from a page of this same origin.
 *
 * Why this instead of a double-submit token: bull-board's UI is a prebuilt bundle that cannot
 * be taught to echo a token, whereas every browser that matters marks each request with
 * `Sec-Fetch-Site` (and sends `Origin` on every non-GET request), which a cross-site page
 * cannot forge. This is the check of Go's `http.CrossOriginProtection`, except that a request
 * carrying neither header is refused too (fail closed: scripts use the bearer-token admin API,
 * not the cookie). The SameSite=Strict session cookie is the second, independent layer.
 */
export function sameOriginOnly(request: Request, _response: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(request.method) || isSameOrigin(request)) return next();
  next(new CrossOriginRefusedError());
}

function isSameOrigin(request: Request): boolean {
  const site = request.get('sec-fetch-site');
  if (site) return site === 'same-origin';
  const origin = request.get('origin');
  return Boolean(origin) && hostOf(origin!) === request.get('host');
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined; // `Origin: null` (sandboxed frames, some redirects) is never same-origin
  }
}
