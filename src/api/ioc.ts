import type { IocContainer } from '@tsoa/runtime';
import type { Request } from 'express';
import type { Services } from '../composition-root.js';

/**
 * tsoa asks this for a controller per request. Controllers are created fresh each time (tsoa keeps
 * the response status and headers on the instance) and get the app's services.
 */
export function iocContainer(request: Request): IocContainer {
  const services = request.app.locals.services as Services;
  return { get: <T>(controller: new (services: Services) => T): T => new controller(services) } as IocContainer;
}
