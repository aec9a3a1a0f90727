import path from 'node:path';
import {
  containers,
  effectiveEnv,
  get,
  isAppContainer,
  problem,
  records,
  skaffoldArtifacts,
  strings,
  type ContainerRef,
  type K8sObject,
  type Problem,
} from './k8s.js';
import { isRecord } from './repo.js';

/** Policies on pods and containers. Each returns the problems it finds; none means compliant. */

export interface PodSecurityOptions {
  /** Containers allowed a writable root filesystem (the dev overlay, for skaffold's file sync). */
  allowWritableRoot?: (ref: ContainerRef) => boolean;
}

/** The "restricted" Pod Security Standard, plus a read-only root filesystem. */
export function podSecurityProblems(objects: K8sObject[], options: PodSecurityOptions = {}): Problem[] {
  return containers(objects).flatMap((ref) => {
    const container = (field: string) => get(ref.container, 'securityContext', field);
    const pod = (field: string) => get(ref.pod, 'securityContext', field);
    const found: string[] = [];
    if ((container('runAsNonRoot') ?? pod('runAsNonRoot')) !== true) found.push('runAsNonRoot is not true');
    if ((container('runAsUser') ?? pod('runAsUser')) === 0) found.push('runs as uid 0');
    if (container('allowPrivilegeEscalation') !== false) found.push('allowPrivilegeEscalation is not false');
    if (container('privileged') === true) found.push('privileged');
    if (!strings(get(ref.container, 'securityContext', 'capabilities', 'drop')).includes('ALL')) {
      found.push('capabilities do not drop ALL');
    }
    if (strings(get(ref.container, 'securityContext', 'capabilities', 'add')).length > 0) found.push('adds capabilities');
    const seccomp =
      get(ref.container, 'securityContext', 'seccompProfile', 'type') ??
      get(ref.pod, 'securityContext', 'seccompProfile', 'type');
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') found.push('seccompProfile is not RuntimeDefault');
    if (container('readOnlyRootFilesystem') !== true && !options.allowWritableRoot?.(ref)) {
      found.push('readOnlyRootFilesystem is not true');
    }
    if (ref.pod.hostNetwork === true || ref.pod.hostPID === true || ref.pod.hostIPC === true)
      found.push('shares a host namespace');
    return found.map((message) => problem(ref.workload, `container ${ref.name}: ${message}`));
  });
}

const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

function httpPath(probe: unknown): string | undefined {
  const value = get(probe, 'httpGet', 'path');
  return typeof value === 'string' ? value : undefined;
}

/**
 * Liveness and readiness differ. The application's own containers use the contract's paths:
 * liveness /health/live (never touches PostgreSQL or Redis, so an outage of either does not
 * restart every pod) and readiness /health/ready.
 */
export function probeProblems(objects: K8sObject[]): Problem[] {
  return containers(objects)
    .filter((ref) => !ref.init && LONG_RUNNING.has(ref.workload.kind))
    .flatMap((ref) => {
      const liveness = ref.container.livenessProbe;
      const readiness = ref.container.readinessProbe;
      const found: string[] = [];
      if (!isRecord(liveness)) found.push('has no livenessProbe');
      if (!isRecord(readiness)) found.push('has no readinessProbe');
      if (
        isRecord(liveness) &&
        isRecord(readiness) &&
        JSON.stringify(stripTiming(liveness)) === JSON.stringify(stripTiming(readiness))
      ) {
        found.push('livenessProbe and readinessProbe check the same thing');
      }
      if (isAppContainer(ref)) {
        if (httpPath(liveness) !== '/health/live')
          found.push(`livenessProbe must GET /health/live, not ${httpPath(liveness) ?? 'a non-HTTP check'}`);
        if (httpPath(readiness) !== '/health/ready')
          found.push(`readinessProbe must GET /health/ready, not ${httpPath(readiness) ?? 'a non-HTTP check'}`);
        // Boot takes seconds (more on a busy node): without a startupProbe, liveness would have
        // to allow for it on every check, or restart pods that are still starting.
        const startup = httpPath(ref.container.startupProbe);
        if (startup === undefined) found.push('has no startupProbe on /health/live');
        else if (startup !== '/health/live') found.push('startupProbe may only use /health/live');
      }
      return found.map((message) => problem(ref.workload, `container ${ref.name}: ${message}`));
    });
}

const PROBE_TIMING = new Set(['periodSeconds', 'timeoutSeconds', 'failureThreshold', 'successThreshold', 'initialDelaySeconds']);

/** What a probe checks, without how often. */
function stripTiming(probe: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(probe).filter(([field]) => !PROBE_TIMING.has(field)));
}

function preStopSeconds(container: Record<string, unknown>): number {
  const sleep = get(container, 'lifecycle', 'preStop', 'sleep', 'seconds');
  if (typeof sleep === 'number') return sleep;
  const command = strings(get(container, 'lifecycle', 'preStop', 'exec', 'command'));
  const seconds = command.length > 0 ? Number(command.at(-1)) : NaN;
  return command.some((part) => /(^|\/)sleep$/.test(part)) && Number.isFinite(seconds) ? seconds : 0;
}

/** The service's drain must finish inside the grace period: preStop + delay + timeout < grace. */
export function gracePeriodProblems(objects: K8sObject[]): Problem[] {
  return containers(objects)
    .filter((ref) => !ref.init && isAppContainer(ref) && LONG_RUNNING.has(ref.workload.kind))
    .flatMap((ref) => {
      const env = effectiveEnv(ref, objects);
      const delayMs = Number(env.get('SHUTDOWN_DELAY_MS') ?? 0);
      const timeoutMs = Number(env.get('SHUTDOWN_TIMEOUT_MS') ?? 10_000);
      const grace = typeof ref.pod.terminationGracePeriodSeconds === 'number' ? ref.pod.terminationGracePeriodSeconds : 30;
      const drain = preStopSeconds(ref.container) + (delayMs + timeoutMs) / 1000;
      if (!Number.isFinite(drain)) return [problem(ref.workload, `container ${ref.name}: SHUTDOWN_* is not a number`)];
      return grace > drain
        ? []
        : [
            problem(
              ref.workload,
              `terminationGracePeriodSeconds ${grace} does not exceed preStop + SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS = ${drain}s`,
            ),
          ];
    });
}

/** Pinned images only; the artifacts skaffold builds stay bare so skaffold can set the tag. */
export function imageProblems(objects: K8sObject[]): Problem[] {
  return containers(objects).flatMap((ref) => {
    const image = String(ref.container.image ?? '');
    if (skaffoldArtifacts().includes(image)) return [];
    const withoutDigest = image.split('@')[0] ?? '';
    const lastSegment = withoutDigest.split('/').at(-1) ?? '';
    const tag = lastSegment.includes(':') ? lastSegment.split(':').at(-1) : undefined;
    if (image.includes('@sha256:')) return [];
    if (tag === undefined) return [problem(ref.workload, `container ${ref.name}: image ${image || '(none)'} has no tag`)];
    if (tag === 'latest' || tag === 'master' || tag === 'main') {
      return [problem(ref.workload, `container ${ref.name}: image ${image} uses a moving tag`)];
    }
    return [];
  });
}

export interface BuildContract {
  /** Does this repository-relative file exist in a clean checkout? */
  fileExists: (file: string) => boolean;
  /** Directories tsconfig.build.json compiles (its `include`). */
  buildIncludes: string[];
  /** package.json scripts. */
  scripts: Record<string, string>;
}

/**
 * The application's containers run what the build produces: `dist/<path>.js` is emitted from
 * `<path>.ts` (tsconfig rootDir is the repository root), which must exist and be compiled by
 * tsconfig.build.json; `.ts` files run by tsx must exist; `npm run <script>` must be defined.
 * They set `args`, never `command`, so the image's ENTRYPOINT (tini) stays PID 1.
 */
export function entrypointProblems(objects: K8sObject[], build: BuildContract): Problem[] {
  return containers(objects)
    .filter(isAppContainer)
    .flatMap((ref) => {
      const found: string[] = [];
      if (strings(ref.container.command).length > 0) found.push('sets `command`, which replaces tini as PID 1; use `args`');
      const args = strings(ref.container.args);
      if (args.length === 0) found.push('has no args: state what it runs');
      found.push(...commandLineProblems(args, build));
      return found.map((message) => problem(ref.workload, `container ${ref.name}: ${message}`));
    });
}

export function commandLineProblems(args: string[], build: BuildContract): string[] {
  const found: string[] = [];
  args.forEach((arg, index) => {
    const file = arg.replace(/^\.\//, '');
    const emitted = /^dist\/(.+)\.js$/.exec(file);
    if (emitted?.[1]) {
      const source = `${emitted[1]}.ts`;
      if (!build.fileExists(source)) found.push(`${arg} is built from ${source}, which does not exist`);
      else if (!build.buildIncludes.some((dir) => source.startsWith(`${dir}/`))) {
        found.push(`${source} is not compiled by tsconfig.build.json (include: ${build.buildIncludes.join(', ')})`);
      }
    } else if (/\.[cm]?ts$/.test(file) && !build.fileExists(file)) {
      found.push(`${arg} does not exist`);
    }
    if (arg === 'run' && args[index - 1] === 'npm') {
      const script = args[index + 1];
      if (!script || !(script in build.scripts)) found.push(`npm script "${script ?? ''}" is not defined in package.json`);
    }
  });
  return found;
}

export function tsconfigBuildIncludes(tsconfigBuild: unknown): string[] {
  return strings(get(tsconfigBuild, 'include')).map((dir) => path.posix.normalize(dir).replace(/\/$/, ''));
}

/** Every pod runs under its own, existing ServiceAccount without a Kubernetes API token. */
export function serviceAccountProblems(objects: K8sObject[]): Problem[] {
  const accounts = new Set(objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name));
  return objects
    .filter((object) => records([get(object, 'spec', 'template', 'spec')]).length > 0 && object.kind !== 'Pooler')
    .flatMap((object) => {
      const pod = get(object, 'spec', 'template', 'spec');
      const account = get(pod, 'serviceAccountName');
      const found: string[] = [];
      if (typeof account !== 'string' || !accounts.has(account))
        found.push(`serviceAccountName ${String(account)} is not defined`);
      if (get(pod, 'automountServiceAccountToken') !== false) found.push('mounts a Kubernetes API token');
      return found.map((message) => problem(object, message));
    });
}
