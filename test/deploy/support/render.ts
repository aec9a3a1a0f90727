import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import YAML from 'yaml';
import { isRecord, repoPath } from './repo.js';
import type { K8sObject } from './k8s.js';

/**
 * Renders kustomizations with `kubectl kustomize` (kustomize built into kubectl, offline).
 * CI has /usr/bin/kubectl (.ci/run and the GitHub runners); set KUBECTL to use another binary.
 * A missing kubectl fails the tests loudly: the manifests are never skipped.
 */
const KUBECTL_CANDIDATES = [process.env.KUBECTL, 'kubectl', '/usr/bin/kubectl', '/usr/local/bin/kubectl'];

let kubectl: string | undefined;

export function findKubectl(candidates: (string | undefined)[] = KUBECTL_CANDIDATES): string {
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      execFileSync(candidate, ['version', '--client'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    'kubectl not found (tried $KUBECTL, PATH, /usr/bin, /usr/local/bin): the Kubernetes manifests cannot be ' +
      'rendered and checked. Install kubectl (https://kubernetes.io/docs/tasks/tools/) or set KUBECTL.',
  );
}

const cache = new Map<string, K8sObject[]>();

/** Renders a kustomization directory (relative to the repository root) into its objects. */
export function render(kustomizationDir: string): K8sObject[] {
  const cached = cache.get(kustomizationDir);
  if (cached) return structuredClone(cached);
  if (!existsSync(repoPath(kustomizationDir, 'kustomization.yaml'))) {
    throw new Error(`${kustomizationDir}/kustomization.yaml does not exist`);
  }
  kubectl ??= findKubectl();
  const output = execFileSync(kubectl, ['kustomize', repoPath(kustomizationDir)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const objects = parseManifests(output);
  cache.set(kustomizationDir, objects);
  return structuredClone(objects);
}

export function parseManifests(text: string): K8sObject[] {
  return YAML.parseAllDocuments(text)
    .map((doc) => doc.toJS() as unknown)
    .filter((value) => value !== null)
    .map((value) => {
      if (!isRecord(value) || typeof value.kind !== 'string' || typeof value.apiVersion !== 'string') {
        throw new Error(`not a Kubernetes object: ${JSON.stringify(value).slice(0, 200)}`);
      }
      return value as K8sObject;
    });
}
