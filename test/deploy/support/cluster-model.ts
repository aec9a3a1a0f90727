import { byKind, get, podTemplate, records, selects, stringMap, strings, type K8sObject } from './k8s.js';
import { isRecord } from './repo.js';

/**
 * A model of the cluster a rendered overlay lands in, for reasoning about traffic without one:
 * the pods the overlay creates (Deployments, StatefulSets, Jobs), the pods CloudNativePG creates
 * for its Cluster and Pooler objects (instances, initdb and join Jobs, PgBouncer), and the actors
 * outside the namespace that the deploy relies on (operator, DNS, istiod, ingress gateway,
 * Prometheus, the API server, the internet, the cloud's metadata service, another team's pods).
 */
export interface Endpoint {
  name: string;
  namespace?: string;
  labels: Record<string, string>;
  ip: string;
  /** Has an Istio sidecar. */
  meshed: boolean;
  serviceAccount?: string;
  /** Pods of this namespace (what `every-pod` in the traffic matrix means). */
  ours: boolean;
}

/** Actors outside the overlay. Pod IPs are in 10.244.0.0/16, as on most clusters. */
const OUTSIDE: Omit<Endpoint, 'ip' | 'ours'>[] = [
  {
    name: 'cnpg-operator',
    namespace: 'cnpg-system',
    labels: { 'app.kubernetes.io/name': 'cloudnative-pg' },
    meshed: false,
  },
  { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, meshed: false },
  { name: 'istiod', namespace: 'istio-system', labels: { app: 'istiod' }, meshed: false },
  {
    name: 'ingress-gateway',
    namespace: 'istio-system',
    labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' },
    meshed: true,
    serviceAccount: 'istio-ingressgateway-service-account',
  },
  { name: 'prometheus', namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' }, meshed: false },
  { name: 'trace-backend', namespace: 'observability', labels: { app: 'jaeger' }, meshed: false },
  { name: 'another-team', namespace: 'shop', labels: { app: 'shop' }, meshed: true, serviceAccount: 'shop' },
];

/** Addresses that are not pods: the API server (a private address), a public host, the metadata service. */
const ADDRESSES: Record<string, string> = {
  'kube-apiserver': '172.20.0.1',
  internet: '203.0.113.10',
  'cloud-metadata': '169.254.169.254',
};

export function clusterEndpoints(objects: K8sObject[]): Endpoint[] {
  const injected = new Set(
    byKind(objects, 'Namespace')
      .filter((ns) => ns.metadata.labels?.['istio-injection'] === 'enabled')
      .map((ns) => ns.metadata.name),
  );
  const sidecar = (namespace: string | undefined, annotations: Record<string, string>) =>
    injected.has(namespace ?? '') && annotations['sidecar.istio.io/inject'] !== 'false';
  const pods: Omit<Endpoint, 'ip'>[] = [];

  for (const workload of objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))) {
    const template = podTemplate(workload);
    const annotations = stringMap(get(template, 'metadata', 'annotations'));
    pods.push({
      name: workload.metadata.name,
      namespace: workload.metadata.namespace,
      labels: stringMap(get(template, 'metadata', 'labels')),
      meshed: sidecar(workload.metadata.namespace, annotations),
      serviceAccount: String(get(template, 'spec', 'serviceAccountName') ?? 'default'),
      ours: true,
    });
  }
  for (const cluster of byKind(objects, 'Cluster')) {
    const name = cluster.metadata.name;
    const inherited = (labels: Record<string, string>) => ({
      ...stringMap(get(cluster, 'spec', 'inheritedMetadata', 'labels')),
      'cnpg.io/cluster': name,
      ...labels,
    });
    const meshed = sidecar(cluster.metadata.namespace, stringMap(get(cluster, 'spec', 'inheritedMetadata', 'annotations')));
    const pod = (suffix: string, labels: Record<string, string>) =>
      pods.push({
        name: `${name}${suffix}`,
        namespace: cluster.metadata.namespace,
        labels: inherited(labels),
        meshed,
        ours: true,
      });
    // Any instance may be the primary after a failover: one endpoint stands for all of them.
    pod('', { 'cnpg.io/podRole': 'instance' });
    pod('-initdb', { 'cnpg.io/jobRole': 'initdb' });
    if (Number(get(cluster, 'spec', 'instances') ?? 1) > 1) pod('-join', { 'cnpg.io/jobRole': 'join' });
  }
  for (const pooler of byKind(objects, 'Pooler')) {
    pods.push({
      name: pooler.metadata.name,
      namespace: pooler.metadata.namespace,
      labels: {
        ...stringMap(get(pooler, 'spec', 'template', 'metadata', 'labels')),
        'cnpg.io/poolerName': pooler.metadata.name,
        'cnpg.io/cluster': String(get(pooler, 'spec', 'cluster', 'name')),
      },
      meshed: sidecar(pooler.metadata.namespace, stringMap(get(pooler, 'spec', 'template', 'metadata', 'annotations'))),
      ours: true,
    });
  }
  const all = [...pods, ...OUTSIDE.map((actor) => ({ ...actor, ours: false }))].map((endpoint, index) => ({
    ...endpoint,
    ip: `10.244.${Math.floor(index / 200)}.${(index % 200) + 10}`,
  }));
  return [...all, ...Object.entries(ADDRESSES).map(([name, ip]) => ({ name, labels: {}, ip, meshed: false, ours: false }))];
}

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol: string;
}

// --- NetworkPolicy ---------------------------------------------------------------------------

function ipToNumber(ip: string): number {
  return ip.split('.').reduce((total, octet) => total * 256 + Number(octet), 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const block = 2 ** (32 - Number(bits));
  return Math.floor(ipToNumber(ip) / block) === Math.floor(ipToNumber(base!) / block);
}

/** Does one `to`/`from` peer of a policy in `policyNamespace` match this endpoint? */
function peerMatches(peer: Record<string, unknown>, policyNamespace: string | undefined, endpoint: Endpoint): boolean {
  if (isRecord(peer.ipBlock)) {
    const block = peer.ipBlock;
    return inCidr(endpoint.ip, String(block.cidr)) && !strings(block.except).some((cidr) => inCidr(endpoint.ip, cidr));
  }
  if (endpoint.namespace === undefined) return false;
  const namespaceOk =
    peer.namespaceSelector === undefined
      ? endpoint.namespace === policyNamespace
      : selects(peer.namespaceSelector, { 'kubernetes.io/metadata.name': endpoint.namespace });
  const podOk = peer.podSelector === undefined || selects(peer.podSelector, endpoint.labels);
  return namespaceOk && podOk;
}

function portMatches(rule: Record<string, unknown>, port: number, protocol: string): boolean {
  const ports = records(rule.ports);
  return (
    ports.length === 0 ||
    ports.some((p) => {
      const first = Number(p.port);
      const last = p.endPort === undefined ? first : Number(p.endPort);
      return String(p.protocol ?? 'TCP') === protocol && (p.port === undefined || (port >= first && port <= last));
    })
  );
}

function policiesFor(policies: K8sObject[], endpoint: Endpoint, type: 'Ingress' | 'Egress'): K8sObject[] {
  return policies.filter((policy) => {
    if (policy.metadata.namespace !== endpoint.namespace || endpoint.namespace === undefined) return false;
    const types = strings(get(policy, 'spec', 'policyTypes'));
    const applies = types.length ? types.includes(type) : type === 'Ingress' || get(policy, 'spec', 'egress') !== undefined;
    return applies && selects(get(policy, 'spec', 'podSelector') ?? {}, endpoint.labels);
  });
}

/** Why NetworkPolicies block this connection, or undefined when they allow it. */
export function networkPolicyVerdict(policies: K8sObject[], c: Connection): string | undefined {
  const direction = (type: 'Ingress' | 'Egress', self: Endpoint, peer: Endpoint, key: 'to' | 'from') => {
    const selecting = policiesFor(policies, self, type);
    if (selecting.length === 0) return true;
    return selecting.some((policy) =>
      records(get(policy, 'spec', type.toLowerCase())).some((rule) => {
        const peers = records(rule[key]);
        return (
          portMatches(rule, c.port, c.protocol) &&
          (peers.length === 0 || peers.some((p) => peerMatches(p, policy.metadata.namespace, peer)))
        );
      }),
    );
  };
  if (!direction('Egress', c.from, c.to, 'to')) return `no NetworkPolicy lets ${c.from.name} send to it (egress)`;
  if (!direction('Ingress', c.to, c.from, 'from')) return `no NetworkPolicy lets ${c.to.name} accept it (ingress)`;
  return undefined;
}

// --- Istio -----------------------------------------------------------------------------------

/** Ports the sidecar agent serves itself (merged metrics, health): mTLS and authorization do not apply. */
const AGENT_PORTS = new Set([15020, 15021]);

/** Why Istio (STRICT mTLS, AuthorizationPolicies) blocks this connection, or undefined. */
export function meshVerdict(objects: K8sObject[], c: Connection): string | undefined {
  if (!c.to.meshed || AGENT_PORTS.has(c.port)) return undefined;
  const strict = byKind(objects, 'PeerAuthentication').some(
    (p) =>
      p.metadata.namespace === c.to.namespace &&
      get(p, 'spec', 'selector') === undefined &&
      get(p, 'spec', 'mtls', 'mode') === 'STRICT',
  );
  if (strict && !c.from.meshed) return `${c.to.name} requires mTLS (STRICT) and ${c.from.name} has no sidecar`;
  const policies = byKind(objects, 'AuthorizationPolicy').filter(
    (p) =>
      p.metadata.namespace === c.to.namespace &&
      (get(p, 'spec', 'selector') === undefined || selects(get(p, 'spec', 'selector'), c.to.labels)),
  );
  const principal = c.from.meshed
    ? `cluster.local/ns/${c.from.namespace ?? ''}/sa/${c.from.serviceAccount ?? 'default'}`
    : undefined;
  const matches = (policy: K8sObject) =>
    records(get(policy, 'spec', 'rules')).some((rule) => {
      const sources = records(rule.from);
      const operations = records(rule.to);
      const sourceOk =
        sources.length === 0 ||
        sources.some((s) => {
          const principals = strings(get(s, 'source', 'principals'));
          return principals.length === 0 || (principal !== undefined && principals.includes(principal));
        });
      const portOk =
        operations.length === 0 ||
        operations.some((o) => {
          const ports = strings(get(o, 'operation', 'ports'));
          return ports.length === 0 || ports.includes(String(c.port));
        });
      return sourceOk && portOk;
    });
  const action = (p: K8sObject) => String(get(p, 'spec', 'action') ?? 'ALLOW');
  if (policies.some((p) => action(p) === 'DENY' && matches(p))) return `an AuthorizationPolicy denies it`;
  const allows = policies.filter((p) => action(p) === 'ALLOW');
  if (allows.length > 0 && !allows.some(matches)) {
    return `no AuthorizationPolicy allows ${principal ?? c.from.name} to ${c.to.name}:${c.port}`;
  }
  return undefined;
}

/** Both layers: undefined when the connection goes through. */
export function verdict(objects: K8sObject[], c: Connection): string | undefined {
  return networkPolicyVerdict(byKind(objects, 'NetworkPolicy'), c) ?? meshVerdict(objects, c);
}
