import {
  byKind,
  containers,
  effectiveEnv,
  get,
  podTemplate,
  problem,
  records,
  selects,
  stringMap,
  strings,
  type K8sObject,
  type Problem,
} from './k8s.js';
import { isRecord } from './repo.js';

/** Policies across objects: availability, scaling, mesh security, wiring. */

/** Every Deployment and StatefulSet is covered by a PodDisruptionBudget. */
export function disruptionBudgetProblems(objects: K8sObject[]): Problem[] {
  const budgets = byKind(objects, 'PodDisruptionBudget');
  return objects
    .filter((object) => object.kind === 'Deployment' || object.kind === 'StatefulSet')
    .filter((workload) => {
      const labels = stringMap(get(podTemplate(workload), 'metadata', 'labels'));
      return !budgets.some(
        (budget) => budget.metadata.namespace === workload.metadata.namespace && selects(get(budget, 'spec', 'selector'), labels),
      );
    })
    .map((workload) => problem(workload, 'no PodDisruptionBudget selects its pods'));
}

/** The namespaces that run pods. */
function workloadNamespaces(objects: K8sObject[]): Set<string> {
  return new Set(objects.filter((o) => podTemplate(o) && o.kind !== 'Pooler').map((o) => o.metadata.namespace ?? 'default'));
}

/** STRICT mTLS for each namespace, and nothing that weakens it. */
export function mtlsProblems(objects: K8sObject[]): Problem[] {
  const policies = byKind(objects, 'PeerAuthentication');
  const found: Problem[] = [];
  for (const namespace of workloadNamespaces(objects)) {
    const strict = policies.some(
      (p) =>
        p.metadata.namespace === namespace &&
        get(p, 'spec', 'selector') === undefined &&
        get(p, 'spec', 'mtls', 'mode') === 'STRICT',
    );
    if (!strict)
      found.push({ object: `Namespace/${namespace}`, message: 'no namespace-wide PeerAuthentication with mtls.mode STRICT' });
  }
  for (const policy of policies) {
    const modes = [get(policy, 'spec', 'mtls', 'mode'), ...Object.values(stringMapOfModes(get(policy, 'spec', 'portLevelMtls')))];
    if (modes.some((mode) => mode === 'PERMISSIVE' || mode === 'DISABLE'))
      found.push(problem(policy, 'weakens mTLS (PERMISSIVE or DISABLE)'));
  }
  return found;
}

function stringMapOfModes(portLevel: unknown): Record<string, unknown> {
  if (!isRecord(portLevel)) return {};
  return Object.fromEntries(Object.entries(portLevel).map(([port, setting]) => [port, get(setting, 'mode')]));
}

/**
 * Deny by default: each namespace has an AuthorizationPolicy that allows nothing (empty spec),
 * and every ALLOW rule names its callers (ServiceAccounts that exist, or the ingress gateway).
 */
export function authorizationProblems(objects: K8sObject[]): Problem[] {
  const policies = byKind(objects, 'AuthorizationPolicy');
  const found: Problem[] = [];
  for (const namespace of workloadNamespaces(objects)) {
    const allowNothing = policies.some(
      (p) => p.metadata.namespace === namespace && isRecord(p.spec) && Object.keys(p.spec).length === 0,
    );
    if (!allowNothing)
      found.push({ object: `Namespace/${namespace}`, message: 'no allow-nothing AuthorizationPolicy (spec: {})' });
  }
  const accounts = new Set(
    byKind(objects, 'ServiceAccount').map((sa) => `cluster.local/ns/${sa.metadata.namespace}/sa/${sa.metadata.name}`),
  );
  for (const policy of policies) {
    if (!isRecord(policy.spec) || Object.keys(policy.spec).length === 0) continue;
    const action = get(policy, 'spec', 'action') ?? 'ALLOW';
    if (action !== 'ALLOW') continue;
    const rules = records(get(policy, 'spec', 'rules'));
    if (rules.length === 0) found.push(problem(policy, 'ALLOW policy without rules'));
    for (const rule of rules) {
      const principals = records(rule.from).flatMap((from) => strings(get(from, 'source', 'principals')));
      if (principals.length === 0) found.push(problem(policy, 'ALLOW rule without source principals allows every caller'));
      for (const principal of principals) {
        if (principal.includes('*')) found.push(problem(policy, `wildcard principal ${principal}`));
        else if (!accounts.has(principal) && !principal.startsWith('cluster.local/ns/istio-system/')) {
          found.push(problem(policy, `principal ${principal} is not a ServiceAccount of this deployment`));
        }
      }
    }
  }
  return found;
}

/** Autoscaled Deployments leave `replicas` to the autoscaler; KEDA scales queue workers on the backlog. */
export function autoscalingProblems(objects: K8sObject[], roleQueues: Record<string, string>): Problem[] {
  const found: Problem[] = [];
  const deployments = byKind(objects, 'Deployment');
  const targetOf = (scaler: K8sObject, ...ref: string[]) => {
    const name = get(scaler, 'spec', ...ref, 'name');
    const target = deployments.find((d) => d.metadata.name === name && d.metadata.namespace === scaler.metadata.namespace);
    if (!target) found.push(problem(scaler, `scale target ${String(name)} is not a Deployment here`));
    else if (get(target, 'spec', 'replicas') !== undefined) {
      found.push(problem(target, `sets spec.replicas although ${scaler.kind}/${scaler.metadata.name} scales it`));
    }
    return target;
  };
  for (const hpa of byKind(objects, 'HorizontalPodAutoscaler')) targetOf(hpa, 'scaleTargetRef');
  for (const scaledObject of byKind(objects, 'ScaledObject')) {
    const target = targetOf(scaledObject, 'scaleTargetRef');
    const roles = target
      ? containers([target])
          .flatMap((ref) => (effectiveEnv(ref, objects).get('WORKER_ROLES') ?? '').split(','))
          .filter(Boolean)
      : [];
    const queues = roles.map((role) => roleQueues[role]);
    const triggers = records(get(scaledObject, 'spec', 'triggers'));
    if (triggers.length === 0) found.push(problem(scaledObject, 'has no triggers'));
    for (const trigger of triggers) {
      const query = String(get(trigger, 'metadata', 'query') ?? '');
      if (trigger.type !== 'prometheus')
        found.push(problem(scaledObject, `trigger type ${String(trigger.type)} is not prometheus`));
      if (!get(trigger, 'metadata', 'serverAddress'))
        found.push(problem(scaledObject, 'prometheus trigger without serverAddress'));
      // KEDA reads an empty answer as 0 unless told otherwise, and the fallback never applies.
      if (get(trigger, 'metadata', 'ignoreNullValues') !== 'false')
        found.push(problem(scaledObject, "prometheus trigger must set ignoreNullValues: 'false' (a missing metric is not 0)"));
      if (!/\bcqrs_queue_backlog_jobs\b/.test(query))
        found.push(problem(scaledObject, 'query does not read cqrs_queue_backlog_jobs'));
      // Every process exports the same global gauge: summing would multiply it by the pod count.
      if (!/^\s*max\s*\(/.test(query)) found.push(problem(scaledObject, 'query must aggregate with max(), not sum or none'));
      const queue = /queue\s*=\s*"([^"]+)"/.exec(query)?.[1];
      if (queues.length !== 1 || queue !== queues[0]) {
        found.push(
          problem(
            scaledObject,
            `query reads queue ${String(queue)} but ${target?.metadata.name ?? '?'} runs roles ${roles.join(',') || '(none)'}`,
          ),
        );
      }
    }
  }
  return found;
}

/** Deployments that must keep a minimum number of replicas (e.g. the relay: at least 2). */
export function minimumReplicaProblems(objects: K8sObject[], minimums: Record<string, number>): Problem[] {
  return Object.entries(minimums).flatMap(([name, minimum]) => {
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
    if (!deployment) return [{ object: `Deployment/${name}`, message: 'is missing' }];
    const replicas = get(deployment, 'spec', 'replicas');
    return typeof replicas === 'number' && replicas >= minimum
      ? []
      : [problem(deployment, `runs ${String(replicas ?? 1)} replica(s), needs at least ${minimum}`)];
  });
}

function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (isRecord(value)) return Object.values(value).flatMap(allStrings);
  return [];
}

/**
 * Names the namespace transformer cannot rewrite (service FQDNs, mesh principals) point at
 * the namespace the objects really live in.
 */
export function namespaceReferenceProblems(objects: K8sObject[]): Problem[] {
  const services = new Map(byKind(objects, 'Service').map((s) => [s.metadata.name, s.metadata.namespace]));
  const accounts = new Map(byKind(objects, 'ServiceAccount').map((s) => [s.metadata.name, s.metadata.namespace]));
  const found: Problem[] = [];
  for (const object of objects) {
    for (const text of allStrings(object)) {
      for (const match of text.matchAll(/([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local/g)) {
        const [, service, namespace] = match;
        if (service && services.has(service) && services.get(service) !== namespace) {
          found.push(problem(object, `${match[0]} should be in namespace ${String(services.get(service))}`));
        }
      }
      for (const match of text.matchAll(/cluster\.local\/ns\/([a-z0-9-]+)\/sa\/([a-z0-9-]+)/g)) {
        const [, namespace, account] = match;
        if (account && accounts.has(account) && accounts.get(account) !== namespace) {
          found.push(problem(object, `${match[0]} should be in namespace ${String(accounts.get(account))}`));
        }
      }
    }
  }
  return found;
}

/** Secrets in an overlay may only be marked examples (dev), or absent (prod). */
export function secretProblems(objects: K8sObject[], { examplesAllowed }: { examplesAllowed: boolean }): Problem[] {
  return byKind(objects, 'Secret').flatMap((secret) => {
    const isExample = secret.metadata.annotations?.['cqrs-service-template/example'] === 'true';
    if (!examplesAllowed) return [problem(secret, 'a Secret in this overlay would overwrite the real one on every deploy')];
    return isExample ? [] : [problem(secret, 'is not marked as an example (annotation cqrs-service-template/example)')];
  });
}

/** Redis for BullMQ: noeviction, AOF, data on a persistent volume. */
export function redisProblems(objects: K8sObject[]): Problem[] {
  const found: Problem[] = [];
  const statefulSets = byKind(objects, 'StatefulSet').filter((s) =>
    containers([s]).some((ref) => String(ref.container.image).startsWith('redis:')),
  );
  if (statefulSets.length === 0) return [{ object: 'StatefulSet/redis', message: 'no Redis StatefulSet' }];
  for (const redis of statefulSets) {
    const pod = get(podTemplate(redis), 'spec');
    const configMapNames = records(get(pod, 'volumes'))
      .map((v) => get(v, 'configMap', 'name'))
      .filter((n): n is string => typeof n === 'string');
    const config = byKind(objects, 'ConfigMap')
      .filter((cm) => configMapNames.includes(cm.metadata.name))
      .flatMap((cm) => Object.values(stringMap(cm.data)))
      .join('\n');
    const setting = (key: string) => new RegExp(`^\\s*${key}\\s+(\\S+)`, 'm').exec(config)?.[1];
    if (setting('maxmemory-policy') !== 'noeviction') found.push(problem(redis, 'maxmemory-policy is not noeviction'));
    if (setting('appendonly') !== 'yes') found.push(problem(redis, 'appendonly is not yes'));
    // The relay marks events published once Redis acknowledged the job: it must be on disk.
    if (setting('appendfsync') !== 'always') found.push(problem(redis, 'appendfsync is not always'));
    const claims = records(get(redis, 'spec', 'volumeClaimTemplates')).map((c) => get(c, 'metadata', 'name'));
    const dataMount = containers([redis]).some((ref) =>
      records(ref.container.volumeMounts).some((m) => m.mountPath === '/data' && claims.includes(m.name)),
    );
    if (!dataMount) found.push(problem(redis, '/data is not on a PersistentVolumeClaim'));
  }
  return found;
}

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  return /^[a-z]+:\/\/(?:[^@/]*@)?([^:/?]+)/.exec(url)?.[1];
}

/**
 * PostgreSQL wiring: DATABASE_READ_URL is the CloudNativePG `-r` service (every instance, the
 * primary included: `-ro` has no endpoints in a one-instance cluster or once the replicas are
 * gone); DATABASE_URL is the PgBouncer pooler or the primary (`-rw`); session users
 * (LISTEN/NOTIFY, migrations) use `-rw`.
 */
export function databaseWiringProblems(objects: K8sObject[], sessionWorkloads: string[]): Problem[] {
  const clusters = byKind(objects, 'Cluster').map((c) => c.metadata.name);
  const poolers = byKind(objects, 'Pooler').map((p) => p.metadata.name);
  const found: Problem[] = [];
  for (const ref of containers(objects)) {
    const env = effectiveEnv(ref, objects);
    const write = hostOf(env.get('DATABASE_URL'));
    const read = hostOf(env.get('DATABASE_READ_URL'));
    const where = (message: string) => found.push(problem(ref.workload, `container ${ref.name}: ${message}`));
    if (env.has('DATABASE_READ_URL') && !clusters.some((c) => read === `${c}-r`))
      where(`DATABASE_READ_URL host ${String(read)} is not the -r service (it must keep an endpoint without replicas)`);
    if (!env.has('DATABASE_URL')) continue;
    const primaries = clusters.map((c) => `${c}-rw`);
    if (sessionWorkloads.includes(ref.workload.metadata.name)) {
      if (!write || !primaries.includes(write))
        where(`needs a session on the primary (${primaries.join(', ')}), not ${String(write)}`);
    } else if (!write || ![...primaries, ...poolers].includes(write)) {
      where(`DATABASE_URL host ${String(write)} is neither a pooler nor a primary`);
    }
  }
  return found;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** Retries only for GET/HEAD; every other route says `attempts: 0` (Istio retries by default). */
export function routingProblems(objects: K8sObject[]): Problem[] {
  return byKind(objects, 'VirtualService').flatMap((service) =>
    records(get(service, 'spec', 'http')).flatMap((route, index) => {
      const name = typeof route.name === 'string' ? route.name : `#${index}`;
      const matches = records(route.match);
      const safeOnly =
        matches.length > 0 &&
        matches.every((match) => {
          const exact = get(match, 'method', 'exact');
          return typeof exact === 'string' && SAFE_METHODS.has(exact);
        });
      const attempts = get(route, 'retries', 'attempts');
      const found: string[] = [];
      if (!safeOnly && attempts !== 0) found.push('can match unsafe methods, so it must set retries.attempts: 0');
      if (typeof get(route, 'timeout') !== 'string') found.push('has no timeout');
      return found.map((message) => problem(service, `route ${name}: ${message}`));
    }),
  );
}

/** The edge validates tokens exactly as the app does. */
export function jwtConsistencyProblems(objects: K8sObject[], configMapName: string): Problem[] {
  const config = stringMap(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === configMapName)?.data);
  return byKind(objects, 'RequestAuthentication').flatMap((auth) =>
    records(get(auth, 'spec', 'jwtRules')).flatMap((rule) => {
      const found: string[] = [];
      if (rule.issuer !== config.JWT_ISSUER)
        found.push(`issuer ${String(rule.issuer)} differs from JWT_ISSUER ${String(config.JWT_ISSUER)}`);
      if (rule.jwksUri !== config.JWT_JWKS_URI) found.push(`jwksUri differs from JWT_JWKS_URI`);
      if (!strings(rule.audiences).includes(config.JWT_AUDIENCE ?? '')) found.push('audiences do not include JWT_AUDIENCE');
      return found.map((message) => problem(auth, message));
    }),
  );
}

/**
 * Pods that run the images skaffold builds pull them with credentials: the registry's new
 * packages are private by default. The pull Secret comes from the pod or its ServiceAccount.
 */
export function pullSecretProblems(objects: K8sObject[], isOwnImage: (image: string) => boolean): Problem[] {
  const accounts = new Map(byKind(objects, 'ServiceAccount').map((sa) => [sa.metadata.name, sa]));
  return objects.flatMap((workload) => {
    const pod = get(podTemplate(workload), 'spec');
    if (!isRecord(pod) || !containers([workload]).some((ref) => isOwnImage(String(ref.container.image)))) return [];
    const account = accounts.get(String(pod.serviceAccountName ?? 'default'));
    const secrets = [...records(pod.imagePullSecrets), ...records(get(account, 'imagePullSecrets'))];
    return secrets.length
      ? []
      : [problem(workload, 'runs an image of the registry without imagePullSecrets (pod or ServiceAccount)')];
  });
}

/** Istio's path matching in AuthorizationPolicies: exact, `prefix*`, `*suffix`, or `*`. */
function istioPathMatches(pattern: string, path: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return path.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith('*')) return path.endsWith(pattern.slice(1));
  return path === pattern;
}

/**
 * The ingress gateway may call the API on the paths the VirtualService routes, and on nothing
 * else: `/metrics`, `/health/*` and the operator dashboard stay inside the cluster.
 */
export function gatewayPathProblems(objects: K8sObject[], internalPaths: string[]): Problem[] {
  const gatewayRules = byKind(objects, 'AuthorizationPolicy').flatMap((policy) =>
    records(get(policy, 'spec', 'rules'))
      .filter((rule) =>
        records(rule.from).some((f) => strings(get(f, 'source', 'principals')).some((p) => p.includes('istio-ingressgateway'))),
      )
      .map((rule) => ({ policy, paths: records(rule.to).flatMap((t) => strings(get(t, 'operation', 'paths'))) })),
  );
  const allowed = (path: string) =>
    gatewayRules.some(({ paths }) => paths.length === 0 || paths.some((pattern) => istioPathMatches(pattern, path)));
  const found: Problem[] = [];
  for (const service of byKind(objects, 'VirtualService')) {
    for (const match of records(get(service, 'spec', 'http')).flatMap((route) => records(route.match))) {
      const prefix = get(match, 'uri', 'prefix');
      const exact = get(match, 'uri', 'exact');
      const samples =
        typeof exact === 'string' ? [exact] : typeof prefix === 'string' ? [prefix, `${prefix.replace(/\/$/, '')}/x`] : [];
      for (const path of samples.filter((sample) => !allowed(sample)))
        found.push(problem(service, `routes ${path}, which no AuthorizationPolicy lets the ingress gateway call`));
    }
  }
  for (const path of internalPaths.filter(allowed)) {
    found.push({ object: 'AuthorizationPolicy/cqrs-api-from-gateway', message: `lets the ingress gateway call ${path}` });
  }
  return found;
}
