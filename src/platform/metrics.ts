import { Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per process, with Node's runtime metrics (event loop, heap, GC). */
export function createMetricsRegistry(labels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}
