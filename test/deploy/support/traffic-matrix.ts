import { clusterEndpoints, verdict, type Connection, type Endpoint } from './cluster-model.js';
import {
  byKind,
  containers,
  effectiveEnv,
  get,
  isAppContainer,
  podTemplate,
  records,
  selects,
  stringMap,
  type K8sObject,
  type Problem,
} from './k8s.js';

/** k8s/traffic-matrix.yaml: every connection the deploy needs (allowed) and some it must never make (denied). */
export interface TrafficMatrix {
  allowed: MatrixRow[];
  /** Open but not needed: the address differs per cluster (`to: anywhere`). */
  tolerated?: MatrixRow[];
  denied: MatrixRow[];
}
export interface MatrixRow {
  from: string | string[];
  to: string | string[];
  port: number;
  protocol?: string;
  why: string;
}

/** Endpoints a row may name that an overlay legitimately lacks (no join Job with one instance). */
const OPTIONAL = /-join$/;

const key = (from: string, to: string, port: number, protocol: string) => `${from} -> ${to}:${port}/${protocol}`;

function expand(names: string | string[], endpoints: Map<string, Endpoint>, unknown: Set<string>): Endpoint[] {
  return [names].flat().flatMap((name) => {
    if (name === 'every-pod') return [...endpoints.values()].filter((e) => e.ours);
    if (name === 'anywhere') return [...endpoints.values()];
    const endpoint = endpoints.get(name);
    if (!endpoint && !OPTIONAL.test(name)) unknown.add(name);
    return endpoint ? [endpoint] : [];
  });
}

function connections(row: MatrixRow, endpoints: Map<string, Endpoint>, unknown: Set<string>): Connection[] {
  return expand(row.from, endpoints, unknown).flatMap((from) =>
    expand(row.to, endpoints, unknown).map((to) => ({ from, to, port: row.port, protocol: row.protocol ?? 'TCP' })),
  );
}

const describeConnection = (c: Connection) => key(c.from.name, c.to.name, c.port, c.protocol);

/**
 * Compares the table with what the rendered policies allow: each allowed row goes through, each
 * denied row is blocked, nothing else between pods goes through, and every URL a container is
 * configured with has its row.
 */
export function trafficProblems(objects: K8sObject[], matrix: TrafficMatrix): Problem[] {
  const endpoints = new Map(clusterEndpoints(objects).map((e) => [e.name, e]));
  const unknown = new Set<string>();
  const found: Problem[] = [];
  const report = (object: string, message: string) => found.push({ object, message });

  const allowed = new Map<string, MatrixRow>();
  for (const row of matrix.allowed) {
    for (const c of connections(row, endpoints, unknown)) {
      allowed.set(describeConnection(c), row);
      const blocked = verdict(objects, c);
      if (blocked) report(describeConnection(c), `needed (${row.why}) but blocked: ${blocked}`);
    }
  }
  const tolerated = new Set(
    (matrix.tolerated ?? []).flatMap((row) => connections(row, endpoints, unknown).map(describeConnection)),
  );
  for (const row of matrix.denied) {
    for (const c of connections(row, endpoints, unknown)) {
      if (!verdict(objects, c)) report(describeConnection(c), `must be blocked (${row.why}) but goes through`);
    }
  }
  for (const name of unknown) report(name, 'is named in the traffic matrix but is no endpoint of this overlay');

  // Least privilege: between the pods of the model, on every port anything mentions.
  const pods = [...endpoints.values()].filter((e) => e.namespace !== undefined);
  for (const { port, protocol } of portsInUse(objects, [...matrix.allowed, ...(matrix.tolerated ?? []), ...matrix.denied])) {
    for (const from of pods) {
      for (const to of pods) {
        if (!from.ours && !to.ours) continue;
        const c = { from, to, port, protocol };
        const listed = allowed.has(describeConnection(c)) || tolerated.has(describeConnection(c));
        if (!listed && !verdict(objects, c)) {
          report(describeConnection(c), 'goes through but is not in the traffic matrix (allow less, or add the row)');
        }
      }
    }
  }

  // Completeness: every connection a container is configured to make has its row.
  for (const needed of configuredConnections(objects, endpoints)) {
    if (!allowed.has(describeConnection(needed.connection))) {
      report(describeConnection(needed.connection), `${needed.setting} points there, but the traffic matrix has no row for it`);
    }
  }
  return found;
}

function portsInUse(objects: K8sObject[], rows: MatrixRow[]): { port: number; protocol: string }[] {
  const ports = new Map<string, { port: number; protocol: string }>();
  const add = (port: unknown, protocol: unknown) => {
    if (typeof port === 'number')
      ports.set(`${port}/${String(protocol ?? 'TCP')}`, { port, protocol: String(protocol ?? 'TCP') });
  };
  for (const row of rows) add(row.port, row.protocol);
  for (const policy of byKind(objects, 'NetworkPolicy')) {
    for (const rule of [...records(get(policy, 'spec', 'ingress')), ...records(get(policy, 'spec', 'egress'))]) {
      for (const p of records(rule.ports)) add(p.port, p.protocol);
    }
  }
  for (const ref of containers(objects)) for (const p of records(ref.container.ports)) add(p.containerPort, p.protocol);
  return [...ports.values()];
}

/**
 * Settings every process receives from the shared ConfigMap but only some use: tokens are
 * verified by the API alone (workers and the migration Job never fetch the JWKS).
 */
const SETTINGS_USED_BY: Record<string, string[]> = { JWT_JWKS_URI: ['cqrs-api'] };

const DEFAULT_PORTS: Record<string, number> = { postgres: 5432, postgresql: 5432, redis: 6379, https: 443, http: 80 };

/** Connections the containers' settings name (URLs in *_URL, *_URI and *_ENDPOINT variables). */
export function configuredConnections(
  objects: K8sObject[],
  endpoints: Map<string, Endpoint>,
  usedBy: Record<string, string[]> = SETTINGS_USED_BY,
): { setting: string; connection: Connection }[] {
  const result: { setting: string; connection: Connection }[] = [];
  for (const ref of containers(objects).filter((r) => isAppContainer(r) || r.workload.kind === 'Deployment')) {
    const from = endpoints.get(ref.workload.metadata.name);
    if (!from) continue;
    const env = effectiveEnv(ref, objects);
    for (const [name, value] of env) {
      if (!value || !/_(URL|URI|ENDPOINT)$/.test(name)) continue;
      if (usedBy[name] && !usedBy[name].includes(ref.workload.metadata.name)) continue;
      if (name.startsWith('OTEL_EXPORTER_OTLP') && env.get('OTEL_TRACES_EXPORTER') === 'none') continue;
      const match = /^(?:([a-z]+):\/\/)?(?:[^@/]*@)?([a-z0-9.-]+)(?::(\d+))?/.exec(value);
      if (!match) continue;
      const [, scheme, host, explicitPort] = match;
      const port = explicitPort ? Number(explicitPort) : DEFAULT_PORTS[scheme ?? ''];
      if (!host || !port) continue;
      for (const target of resolve(objects, endpoints, host, port)) {
        result.push({
          setting: `${ref.workload.metadata.name} ${name}`,
          connection: { from, to: target.endpoint, port: target.port, protocol: 'TCP' },
        });
      }
    }
  }
  return result;
}

/** Where a host name leads: a Service's pods (on its target port), CloudNativePG's services, or the internet. */
function resolve(
  objects: K8sObject[],
  endpoints: Map<string, Endpoint>,
  host: string,
  port: number,
): { endpoint: Endpoint; port: number }[] {
  const shortName = host.replace(/\.[a-z0-9-]+\.svc(\.cluster\.local)?$/, '');
  for (const cluster of byKind(objects, 'Cluster')) {
    if ([`${cluster.metadata.name}-rw`, `${cluster.metadata.name}-r`, `${cluster.metadata.name}-ro`].includes(shortName)) {
      return [{ endpoint: endpoints.get(cluster.metadata.name)!, port }];
    }
  }
  if (endpoints.has(shortName) && byKind(objects, 'Pooler').some((p) => p.metadata.name === shortName)) {
    return [{ endpoint: endpoints.get(shortName)!, port }];
  }
  const service = byKind(objects, 'Service').find((s) => s.metadata.name === shortName);
  if (!service) {
    // Another namespace's service (the trace backend), or a host outside the cluster.
    const namespace = /\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?$/.exec(host)?.[1];
    const elsewhere = [...endpoints.values()].find((e) => namespace !== undefined && e.namespace === namespace && !e.ours);
    if (elsewhere) return [{ endpoint: elsewhere, port }];
    return host.includes('.') && !namespace ? [{ endpoint: endpoints.get('internet')!, port }] : [];
  }
  const servicePort = records(get(service, 'spec', 'ports')).find((p) => p.port === port);
  const selector = { matchLabels: stringMap(get(service, 'spec', 'selector')) };
  const workloads = objects.filter(
    (o) => podTemplate(o) !== undefined && selects(selector, stringMap(get(podTemplate(o), 'metadata', 'labels'))),
  );
  return workloads.flatMap((workload) => {
    const endpoint = endpoints.get(workload.metadata.name);
    if (!endpoint) return [];
    const target = servicePort?.targetPort ?? port;
    const containerPort =
      typeof target === 'number'
        ? target
        : containers([workload])
            .flatMap((r) => records(r.container.ports))
            .find((p) => p.name === target)?.containerPort;
    return [{ endpoint, port: Number(containerPort ?? port) }];
  });
}
