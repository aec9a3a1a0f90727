import { containers, effectiveEnv, get, records, strings, type K8sObject } from '../../deploy/support/k8s.js';
import { render } from '../../deploy/support/render.js';

/** What a workload's pod template says about how its one app container runs. */
export interface Workload {
  name: string;
  /** The image the manifest names (cqrs-api, cqrs-worker). */
  image: string;
  args: string[];
  /** Literal environment: the ConfigMap (envFrom) and plain `value` entries. */
  env: Record<string, string>;
  /** Variables built from Secrets (connection strings): the test supplies its own. */
  fromSecrets: string[];
  user: string;
  readOnlyRootFilesystem: boolean;
  tmpSize: string;
  gracePeriodSeconds: number;
  preStopSeconds: number;
  /** The variable holding the port the readiness probe asks (PORT, WORKER_HTTP_PORT), if probed. */
  probedPortVariable: string | undefined;
}

/** The production base (`k8s/base`) or what `skaffold dev` deploys (`k8s/overlays/dev-sync`), rendered with kustomize. */
export function manifests(variant: 'base' | 'dev'): K8sObject[] {
  return variant === 'base' ? [...render('k8s/base/platform'), ...render('k8s/base/app')] : render('k8s/overlays/dev-sync');
}

export function workload(objects: K8sObject[], kind: string, name: string): Workload {
  const ref = containers(objects).find((c) => c.workload.kind === kind && c.workload.metadata.name === name && !c.init);
  if (!ref) throw new Error(`${kind}/${name} has no container in the rendered manifests`);
  const env: Record<string, string> = {};
  const fromSecrets: string[] = [];
  for (const [key, value] of effectiveEnv(ref, objects)) {
    // Secret-backed values, and values assembled from them with $(VAR), are the cluster's own.
    if (value === undefined || value.includes('$(')) fromSecrets.push(key);
    else env[key] = value;
  }
  const probePort = get(ref.container, 'readinessProbe', 'httpGet', 'port');
  const containerPort = records(ref.container.ports).find((p) => p.name === probePort || p.containerPort === probePort);
  const probedPortVariable = Object.keys(env).find(
    (key) => /PORT$/.test(key) && env[key] === String(containerPort?.containerPort),
  );
  const tmpMount = records(ref.container.volumeMounts).find((mount) => mount.mountPath === '/tmp');
  const tmpVolume = records(ref.pod.volumes).find((volume) => volume.name === tmpMount?.name);
  return {
    name,
    image: String(ref.container.image),
    args: strings(ref.container.args),
    env,
    fromSecrets,
    user: `${String(get(ref.pod, 'securityContext', 'runAsUser'))}:${String(get(ref.pod, 'securityContext', 'runAsGroup'))}`,
    readOnlyRootFilesystem: get(ref.container, 'securityContext', 'readOnlyRootFilesystem') === true,
    tmpSize: String(get(tmpVolume, 'emptyDir', 'sizeLimit') ?? '64Mi'),
    gracePeriodSeconds: Number(get(ref.pod, 'terminationGracePeriodSeconds') ?? 30),
    preStopSeconds: Number(get(ref.container, 'lifecycle', 'preStop', 'sleep', 'seconds') ?? 0),
    probedPortVariable,
  };
}
