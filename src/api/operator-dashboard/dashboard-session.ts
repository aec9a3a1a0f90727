import type { CookieOptions, NextFunction, Request, Response } from 'express';
import jwt from 'jsonwebtoken';
import { UnauthenticatedError } from '../../platform/errors.js';
import { defineAbilityFor, type AppAbility } from '../../policies/abilities.js';
import type { Principal } from '../../policies/principal.js';
import type { TokenVerifier } from '../authentication.js';
import { DASHBOARD_MOUNT } from './paths.js';

/**
 * The browser session of the dashboard is the caller's own JWT in a cookie: stateless, and
 * checked on every request with the same verifier as the API, so expiry and key rotation apply
 * as they do there. HttpOnly keeps it from page scripts, SameSite=Strict keeps other sites'
 * pages from sending it, Secure is set whenever the request arrived over TLS (`trust proxy`
 * makes `req.secure` follow `X-Forwarded-Proto` from the mesh).
 */
export const SESSION_COOKIE = 'cqrs_dashboard_session';

export interface DashboardCaller {
  principal: Principal;
  ability: AppAbility;
}

function cookieOptions(request: Request): CookieOptions {
  return { httpOnly: true, sameSite: 'strict', secure: request.secure, path: DASHBOARD_MOUNT };
}

export function startSession(request: Request, response: Response, token: string): void {
  const { exp } = (jwt.decode(token) ?? {}) as { exp?: number };
  const maxAge = exp ? Math.max(0, exp * 1000 - Date.now()) : undefined;
  response.cookie(SESSION_COOKIE, token, { ...cookieOptions(request), ...(maxAge === undefined ? {} : { maxAge }) });
}

export function endSession(request: Request, response: Response): void {
  response.clearCookie(SESSION_COOKIE, cookieOptions(request));
}

/** The verified caller and their abilities, or an UnauthenticatedError (no, expired or bad cookie). */
export async function callerOf(request: Request, verify: TokenVerifier): Promise<DashboardCaller> {
  const token = (request.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];
  if (!token) throw new UnauthenticatedError('Sign in to the queue dashboard first');
  const principal = await verify(token);
  return { principal, ability: defineAbilityFor(principal) };
}

/** How a refusal is answered: a redirect for pages, problem+json for the board's API. */
export type Refuse = (error: unknown, request: Request, response: Response, next: NextFunction) => void;

/** Puts the verified caller in `res.locals.caller`; failures go to `refuse`. */
export function requireSession(verify: TokenVerifier, refuse: Refuse) {
  return (request: Request, response: Response, next: NextFunction): void => {
    callerOf(request, verify).then(
      (caller) => {
        request.user = caller.principal;
        response.locals.caller = caller;
        next();
      },
      (error: unknown) => refuse(error, request, response, next),
    );
  };
}
