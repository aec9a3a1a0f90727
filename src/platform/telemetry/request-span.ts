import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';

/**
 * Names the current request's span after its route template: the http instrumentation reads the
 * route from the request's RPC metadata when the response closes (span name `GET /v1/orders/:orderId`,
 * attribute `http.route`). Take it while the request's context is active, call it before the
 * response closes; outside a traced request it does nothing.
 */
export function requestSpanRoute(): (route: string) => void {
  const metadata = getRPCMetadata(context.active());
  if (metadata?.type !== RPCType.HTTP) return ignore;
  return (route) => {
    metadata.route = route;
  };
}

const ignore = () => undefined;
