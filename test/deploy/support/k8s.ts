import { isRecord, readYamlDocuments } from './repo.js';

/** A rendered manifest: only the fields every object has are typed; the rest is read defensively. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface Problem {
  object: string;
  message: string;
}

export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);

export function describe(object: K8sObject): string {
  return `${object.kind}/${object.metadata.name}`;
}

export function problem(object: K8sObject, message: string): Problem {
  return { object: describe(object), message };
}

/** Reads a nested field: get(obj, 'spec', 'template', 'spec'). Missing steps give undefined. */
export function get(value: unknown, ...steps: (string | number)[]): unknown {
  let current = value;
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[step];
    } else {
      if (!isRecord(current)) return undefined;
      current = current[step];
    }
  }
  return current;
}

export function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

export function stringMap(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

export function byKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((object) => object.kind === kind);
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} is not in the rendered manifests`);
  return found;
}

export function podTemplate(object: K8sObject): Record<string, unknown> | undefined {
  const template =
    object.kind === 'CronJob' ? get(object, 'spec', 'jobTemplate', 'spec', 'template') : get(object, 'spec', 'template');
  return isRecord(template) ? template : undefined;
}

export function podSpec(object: K8sObject): Record<string, unknown> | undefined {
  const spec = get(podTemplate(object), 'spec');
  return isRecord(spec) ? spec : undefined;
}

export interface ContainerRef {
  workload: K8sObject;
  pod: Record<string, unknown>;
  container: Record<string, unknown>;
  name: string;
  init: boolean;
}

export function containers(objects: K8sObject[]): ContainerRef[] {
  return objects.flatMap((workload) => {
    const pod = WORKLOAD_KINDS.has(workload.kind) ? podSpec(workload) : undefined;
    if (!pod) return [];
    const regular = records(pod.containers).map((container) => ({ container, init: false }));
    const init = records(pod.initContainers).map((container) => ({ container, init: true }));
    return [...init, ...regular].map(({ container, init: isInit }) => ({
      workload,
      pod,
      container,
      init: isInit,
      name: typeof container.name === 'string' ? container.name : '?',
    }));
  });
}

/** Does a label selector (matchLabels + matchExpressions) select these labels? */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  if (!isRecord(selector)) return false;
  const matchLabels = stringMap(selector.matchLabels);
  const expressions = records(selector.matchExpressions);
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return true;
  const labelsMatch = Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
  return (
    labelsMatch &&
    expressions.every((expression) => {
      const key = String(expression.key);
      const values = strings(expression.values);
      switch (expression.operator) {
        case 'In':
          return labels[key] !== undefined && values.includes(labels[key]);
        case 'NotIn':
          return labels[key] === undefined || !values.includes(labels[key]);
        case 'Exists':
          return labels[key] !== undefined;
        case 'DoesNotExist':
          return labels[key] === undefined;
        default:
          return false;
      }
    })
  );
}

/**
 * The environment a container sees from literal values: ConfigMaps pulled in with envFrom,
 * then `env` entries with a `value`. Secret-backed entries are reported as undefined.
 */
export function effectiveEnv(ref: ContainerRef, objects: K8sObject[]): Map<string, string | undefined> {
  const env = new Map<string, string | undefined>();
  for (const source of records(ref.container.envFrom)) {
    const name = get(source, 'configMapRef', 'name');
    const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === name);
    for (const [key, value] of Object.entries(stringMap(configMap?.data))) env.set(key, value);
  }
  for (const entry of records(ref.container.env)) {
    if (typeof entry.name === 'string') env.set(entry.name, typeof entry.value === 'string' ? entry.value : undefined);
  }
  return env;
}

let artifacts: string[] | undefined;

/** Images built by skaffold (skaffold.yaml): manifests name them bare; skaffold substitutes the tag. */
export function skaffoldArtifacts(): string[] {
  artifacts ??= [
    ...new Set(
      readYamlDocuments('skaffold.yaml').flatMap((config) =>
        records(get(config, 'build', 'artifacts')).map((artifact) => String(artifact.image)),
      ),
    ),
  ];
  return artifacts;
}

export function isAppContainer(ref: ContainerRef): boolean {
  return skaffoldArtifacts().includes(String(ref.container.image));
}

/**
 * Free-form data for tests that break a manifest on purpose: deep property paths without a
 * type for every level. Used only to mutate, never to read.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Mutable = any;
