import { expect } from 'chai';
import { pathToFileURL } from 'node:url';
import { expectNoProblems, expectProblem } from './support/expect.js';
import {
  containers,
  effectiveEnv,
  find,
  get,
  isAppContainer,
  records,
  skaffoldArtifacts,
  type ContainerRef,
  type K8sObject,
  type Mutable,
} from './support/k8s.js';
import {
  authorizationProblems,
  autoscalingProblems,
  databaseWiringProblems,
  disruptionBudgetProblems,
  gatewayPathProblems,
  jwtConsistencyProblems,
  minimumReplicaProblems,
  mtlsProblems,
  namespaceReferenceProblems,
  pullSecretProblems,
  redisProblems,
  routingProblems,
  secretProblems,
} from './support/platform-policies.js';
import {
  entrypointProblems,
  gracePeriodProblems,
  imageProblems,
  podSecurityProblems,
  probeProblems,
  serviceAccountProblems,
  tsconfigBuildIncludes,
  type BuildContract,
} from './support/pod-policies.js';
import { QUEUE_NAMES, QUEUES, WORKER_ROLES } from '../../src/workers/queues.js';
import { render } from './support/render.js';
import { cleanCheckoutFiles, packageScripts, readRepoFile, repoPath } from './support/repo.js';

/** Queue each worker role consumes: the service's declarations (src/workers/queues.ts), so a new queue's role needs its Deployment. */
const ROLE_QUEUES = Object.fromEntries(QUEUE_NAMES.map((queue) => [QUEUES[queue].role, queue]));

/** Every declared worker role runs in some Deployment (a role nobody deploys never drains its queue). */
function undeployedRoles(objects: K8sObject[]): string[] {
  const deployed = new Set(
    containers(objects.filter((object) => object.kind === 'Deployment')).flatMap((ref) =>
      (effectiveEnv(ref, objects).get('WORKER_ROLES') ?? '').split(','),
    ),
  );
  return WORKER_ROLES.filter((role) => !deployed.has(role) && !deployed.has('all')).map(
    (role) => `no Deployment runs worker role ${role}`,
  );
}
/** API paths for operators and the platform only: never reachable through the ingress gateway. */
const INTERNAL_PATHS = ['/metrics', '/health/ready', '/health/live', '/admin/queues', '/admin/queues/api/queues'];
/** Workloads that need a PostgreSQL session (LISTEN/NOTIFY, migrations), not the transaction pooler. */
const SESSION_WORKLOADS = ['cqrs-relay', 'cqrs-migrate'];

function buildContract(): BuildContract {
  const files = cleanCheckoutFiles();
  return {
    fileExists: (file) => files.has(file),
    buildIncludes: tsconfigBuildIncludes(JSON.parse(readRepoFile('tsconfig.build.json'))),
    scripts: packageScripts(),
  };
}

/** Only the dev-sync overlay (`skaffold dev`) may make the app's root filesystem writable: skaffold syncs sources into it. */
const devSync = (ref: ContainerRef) => isAppContainer(ref) && ref.workload.kind === 'Deployment';

interface OverlayRules {
  dir: string;
  allowWritableRoot?: (ref: ContainerRef) => boolean;
  examplesAllowed: boolean;
  minimumReplicas: Record<string, number>;
}

const OVERLAYS: OverlayRules[] = [
  { dir: 'k8s/overlays/dev', examplesAllowed: true, minimumReplicas: {} },
  { dir: 'k8s/overlays/dev-sync', allowWritableRoot: devSync, examplesAllowed: true, minimumReplicas: {} },
  { dir: 'k8s/overlays/prod', examplesAllowed: false, minimumReplicas: { 'cqrs-relay': 2 } },
];

function mutable(object: K8sObject): Mutable {
  return object;
}

describe('Kubernetes policies', function () {
  this.timeout(30_000);

  for (const overlay of OVERLAYS) {
    describe(overlay.dir, () => {
      it('When pods are checked, then every container meets the restricted pod security profile', () => {
        expectNoProblems(podSecurityProblems(render(overlay.dir), { allowWritableRoot: overlay.allowWritableRoot }));
      });

      it('When probes are checked, then liveness never depends on PostgreSQL or Redis and differs from readiness', () => {
        expectNoProblems(probeProblems(render(overlay.dir)));
      });

      it('When workloads are checked, then a PodDisruptionBudget selects every Deployment and StatefulSet', () => {
        expectNoProblems(disruptionBudgetProblems(render(overlay.dir)));
      });

      it('When shutdown timing is checked, then the grace period exceeds preStop + SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS', () => {
        expectNoProblems(gracePeriodProblems(render(overlay.dir)));
      });

      it('When the mesh is checked, then mTLS is STRICT and authorization denies by default', () => {
        const objects = render(overlay.dir);
        expectNoProblems([...mtlsProblems(objects), ...authorizationProblems(objects)]);
      });

      it('When images are checked, then all are pinned and only skaffold artifacts are untagged', () => {
        expectNoProblems(imageProblems(render(overlay.dir)));
      });

      it('When container commands are checked, then they run files the build produces, under tini', () => {
        expectNoProblems(entrypointProblems(render(overlay.dir), buildContract()));
      });

      it('When ServiceAccounts are checked, then each pod has its own and no API token', () => {
        expectNoProblems(serviceAccountProblems(render(overlay.dir)));
      });

      it('When scaling is checked, then every worker role is deployed, KEDA reads each role queue backlog and autoscaled Deployments leave replicas alone', () => {
        const objects = render(overlay.dir);
        expectNoProblems([
          ...autoscalingProblems(objects, ROLE_QUEUES),
          ...minimumReplicaProblems(objects, overlay.minimumReplicas),
        ]);
        expect(undeployedRoles(objects)).to.deep.equal([]);
      });

      it('When wiring is checked, then PostgreSQL, Redis, routes, JWT rules, namespaces and Secrets fit together', () => {
        const objects = render(overlay.dir);
        expectNoProblems([
          ...databaseWiringProblems(objects, SESSION_WORKLOADS),
          ...redisProblems(objects),
          ...routingProblems(objects),
          ...gatewayPathProblems(objects, INTERNAL_PATHS),
          ...jwtConsistencyProblems(objects, 'cqrs-config'),
          ...namespaceReferenceProblems(objects),
          ...secretProblems(objects, { examplesAllowed: overlay.examplesAllowed }),
        ]);
      });

      it("When the ConfigMap is given to the service's own config schema, then every container's settings load", async () => {
        // Arrange
        const objects = render(overlay.dir);
        const { loadConfig } = await importConfigModule();
        const configSource = readRepoFile('src/platform/config.ts');

        // Act
        const failures = containers(objects)
          .filter(isAppContainer)
          .flatMap((ref) => {
            const env = resolvedEnv(ref, objects);
            const unknown = [...env.keys()].filter((name) => isServiceSetting(name) && !knownSetting(name, configSource));
            try {
              loadConfig(Object.fromEntries(env));
              return unknown.map((name) => `${ref.workload.metadata.name}: ${name} is not a setting of src/platform/config.ts`);
            } catch (error) {
              return [`${ref.workload.metadata.name}: ${(error as Error).message}`, ...unknown];
            }
          });

        // Assert
        expect(failures).to.deep.equal([]);
      });
    });
  }

  it('When production pods run the images skaffold pushes, then they pull with the registry Secret', () => {
    expectNoProblems(pullSecretProblems(render('k8s/overlays/prod'), (image) => skaffoldArtifacts().includes(image)));
  });

  it('When a ServiceAccount loses its pull Secret, then the pods using it are reported', () => {
    // Arrange
    const objects = render('k8s/overlays/prod');
    delete mutable(find(objects, 'ServiceAccount', 'cqrs-migrate')).imagePullSecrets;

    // Act
    const problems = pullSecretProblems(objects, (image) => skaffoldArtifacts().includes(image));

    // Assert
    expectProblem(problems, 'Job/cqrs-migrate', /without imagePullSecrets/);
  });

  describe('when a rendered manifest is broken', () => {
    it('When a container may run as root or escalate, then pod security reports it', () => {
      // Arrange
      const objects = render('k8s/overlays/prod');
      const api = mutable(find(objects, 'Deployment', 'cqrs-api'));
      delete api.spec.template.spec.securityContext.runAsNonRoot;
      delete api.spec.template.spec.containers[0].securityContext.runAsNonRoot;
      api.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
      api.spec.template.spec.containers[0].securityContext.capabilities.drop = [];
      delete api.spec.template.spec.securityContext.seccompProfile;
      api.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false;

      // Act
      const problems = podSecurityProblems(objects);

      // Assert
      for (const message of [
        /runAsNonRoot/,
        /allowPrivilegeEscalation/,
        /drop ALL/,
        /seccompProfile/,
        /readOnlyRootFilesystem/,
      ]) {
        expectProblem(problems, 'Deployment/cqrs-api', message);
      }
    });

    it('When liveness points at the readiness path, then the probe policy reports it', () => {
      // Arrange
      const objects = render('k8s/overlays/prod');
      const worker = mutable(find(objects, 'Deployment', 'cqrs-payments'));
      worker.spec.template.spec.containers[0].livenessProbe.httpGet.path = '/health/ready';
      delete mutable(find(objects, 'Deployment', 'cqrs-relay')).spec.template.spec.containers[0].startupProbe;

      // Act
      const problems = probeProblems(objects);

      // Assert
      expectProblem(problems, 'Deployment/cqrs-payments', /livenessProbe must GET \/health\/live/);
      expectProblem(problems, 'Deployment/cqrs-payments', /check the same thing/);
      expectProblem(problems, 'Deployment/cqrs-relay', /has no startupProbe/);
    });

    it('When a Deployment has no PodDisruptionBudget, then the availability policy reports it', () => {
      // Arrange
      const objects = render('k8s/overlays/prod').filter(
        (o) => !(o.kind === 'PodDisruptionBudget' && o.metadata.name === 'cqrs-relay'),
      );

      // Act
      const problems = disruptionBudgetProblems(objects);

      // Assert
      expectProblem(problems, 'Deployment/cqrs-relay', /no PodDisruptionBudget/);
    });

    it('When the drain outlasts the grace period, then the shutdown policy reports it', () => {
      // Arrange
      const objects = render('k8s/overlays/prod');
      mutable(find(objects, 'ConfigMap', 'cqrs-config')).data.SHUTDOWN_TIMEOUT_MS = '60000';

      // Act
      const problems = gracePeriodProblems(objects);

      // Assert
      expectProblem(problems, 'Deployment/cqrs-api', /terminationGracePeriodSeconds 40 does not exceed .* = 70s/);
      expectProblem(problems, 'Deployment/cqrs-relay', /terminationGracePeriodSeconds 35/);
    });

    it('When mTLS is permissive and the allow-nothing policy is gone, then the mesh policies report both', () => {
      // Arrange
      const objects = render('k8s/overlays/prod').filter(
        (o) => !(o.kind === 'AuthorizationPolicy' && o.metadata.name === 'allow-nothing'),
      );
      mutable(find(objects, 'PeerAuthentication', 'default')).spec.mtls.mode = 'PERMISSIVE';
      records(get(find(objects, 'AuthorizationPolicy', 'cqrs-redis-from-clients'), 'spec', 'rules'))[0]!.from = [];

      // Act
      const problems = [...mtlsProblems(objects), ...authorizationProblems(objects)];

      // Assert
      expectProblem(problems, 'Namespace/cqrs', /mtls.mode STRICT/);
      expectProblem(problems, 'PeerAuthentication/default', /PERMISSIVE/);
      expectProblem(problems, 'Namespace/cqrs', /allow-nothing/);
      expectProblem(problems, 'AuthorizationPolicy/cqrs-redis-from-clients', /allows every caller/);
    });

    it('When an image floats or a container bypasses tini, then the image and entrypoint policies report it', () => {
      // Arrange
      const objects = render('k8s/overlays/prod');
      mutable(find(objects, 'Deployment', 'cqrs-ratelimit')).spec.template.spec.containers[0].image =
        'envoyproxy/ratelimit:latest';
      mutable(find(objects, 'StatefulSet', 'cqrs-redis')).spec.template.spec.containers[0].image = 'redis';
      const api = mutable(find(objects, 'Deployment', 'cqrs-api')).spec.template.spec.containers[0];
      api.command = ['node'];
      api.args = ['dist/src/api/no-such-server.js'];
      mutable(find(objects, 'Deployment', 'cqrs-relay')).spec.template.spec.containers[0].args = ['npm', 'run', 'no-such-script'];

      // Act
      const problems = [...imageProblems(objects), ...entrypointProblems(objects, buildContract())];

      // Assert
      expectProblem(problems, 'Deployment/cqrs-ratelimit', /moving tag/);
      expectProblem(problems, 'StatefulSet/cqrs-redis', /has no tag/);
      expectProblem(problems, 'Deployment/cqrs-api', /replaces tini/);
      expectProblem(problems, 'Deployment/cqrs-api', /src\/api\/no-such-server\.ts, which does not exist/);
      expectProblem(problems, 'Deployment/cqrs-relay', /npm script "no-such-script"/);
    });

    it('When KEDA sums the backlog of the wrong queue, then the scaling policy reports it', () => {
      // Arrange
      const objects = render('test/deploy/fixtures/broken-overlay');
      mutable(find(objects, 'Deployment', 'cqrs-payments')).spec.replicas = 3;
      delete mutable(find(objects, 'ScaledObject', 'cqrs-webhooks')).spec.triggers[0].metadata.ignoreNullValues;

      // Act
      const problems = autoscalingProblems(objects, ROLE_QUEUES);

      // Assert
      expectProblem(problems, 'ScaledObject/cqrs-projections', /max\(\)/);
      expectProblem(
        problems,
        'ScaledObject/cqrs-projections',
        /reads queue payments but cqrs-projections runs roles projections/,
      );
      expectProblem(problems, 'Deployment/cqrs-payments', /sets spec.replicas although ScaledObject\/cqrs-payments/);
      expectProblem(problems, 'ScaledObject/cqrs-webhooks', /ignoreNullValues/);
    });

    it('When the broken fixture overlay is checked, then the policies report its breaks', () => {
      // Arrange
      const objects = render('test/deploy/fixtures/broken-overlay');

      // Act
      const problems = [...podSecurityProblems(objects), ...probeProblems(objects), ...mtlsProblems(objects)];

      // Assert
      expectProblem(problems, 'Deployment/cqrs-api', /runAsNonRoot is not true/);
      expectProblem(problems, 'Deployment/cqrs-api', /livenessProbe must GET \/health\/live/);
      expectProblem(problems, 'Deployment/cqrs-payments', /has no readinessProbe/);
      expectProblem(problems, 'PeerAuthentication/default', /PERMISSIVE/);
    });

    it('When wiring drifts, then the database, Redis, routing, JWT, namespace and Secret policies report it', () => {
      // Arrange
      const objects = render('k8s/overlays/prod');
      const relayEnv = records(mutable(find(objects, 'Deployment', 'cqrs-relay')).spec.template.spec.containers[0].env);
      relayEnv.find((e) => e.name === 'DATABASE_URL')!.value = 'postgres://$(DB_USER):$(DB_PASSWORD)@cqrs-db-pooler-rw:5432/app';
      const apiEnv = records(mutable(find(objects, 'Deployment', 'cqrs-api')).spec.template.spec.containers[0].env);
      apiEnv.find((e) => e.name === 'DATABASE_READ_URL')!.value = 'postgres://$(DB_USER):$(DB_PASSWORD)@cqrs-db-ro:5432/app';
      mutable(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('cqrs-redis-'))!).data['redis.conf'] =
        'maxmemory-policy allkeys-lru\nappendfsync everysec\n';
      delete mutable(find(objects, 'VirtualService', 'cqrs-api')).spec.http[1].retries;
      mutable(find(objects, 'ConfigMap', 'cqrs-config')).data.JWT_ISSUER = 'https://other.example.com/';
      mutable(find(objects, 'AuthorizationPolicy', 'cqrs-ratelimit-from-api')).spec.rules[0].from[0].source.principals = [
        'cluster.local/ns/default/sa/cqrs-api',
      ];
      objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cqrs-redis', namespace: 'cqrs' } });

      // Act
      const problems = [
        ...databaseWiringProblems(objects, SESSION_WORKLOADS),
        ...redisProblems(objects),
        ...routingProblems(objects),
        ...jwtConsistencyProblems(objects, 'cqrs-config'),
        ...namespaceReferenceProblems(objects),
        ...secretProblems(objects, { examplesAllowed: false }),
      ];

      // Assert
      expectProblem(problems, 'Deployment/cqrs-relay', /needs a session on the primary/);
      expectProblem(problems, 'Deployment/cqrs-api', /DATABASE_READ_URL host cqrs-db-ro is not the -r service/);
      expectProblem(problems, 'StatefulSet/cqrs-redis', /noeviction/);
      expectProblem(problems, 'StatefulSet/cqrs-redis', /appendonly/);
      expectProblem(problems, 'StatefulSet/cqrs-redis', /appendfsync is not always/);
      expectProblem(problems, 'VirtualService/cqrs-api', /route writes: .*retries.attempts: 0/);
      expectProblem(problems, 'RequestAuthentication/cqrs-api-jwt', /issuer .* differs from JWT_ISSUER/);
      expectProblem(problems, 'AuthorizationPolicy/cqrs-ratelimit-from-api', /should be in namespace cqrs/);
      expectProblem(problems, 'Secret/cqrs-redis', /overwrite the real one/);
    });

    it('When the gateway may call any path, or a route is not allowed, then the gateway path policy reports both', () => {
      // Arrange
      const objects = render('k8s/overlays/prod');
      const rule = mutable(find(objects, 'AuthorizationPolicy', 'cqrs-api-from-gateway')).spec.rules[0];
      rule.to[0].operation.paths = ['/v1/*', '/metrics'];

      // Act
      const problems = gatewayPathProblems(objects, INTERNAL_PATHS);

      // Assert
      expectProblem(problems, 'AuthorizationPolicy/cqrs-api-from-gateway', /lets the ingress gateway call \/metrics/);
      expectProblem(problems, 'VirtualService/cqrs-api', /routes \/openapi.json, which no AuthorizationPolicy/);
    });

    it('When a ConfigMap value is invalid, then the service config schema refuses it', async () => {
      // Arrange
      const objects = render('k8s/overlays/prod');
      mutable(find(objects, 'ConfigMap', 'cqrs-config')).data.RATE_LIMIT_DURATION = 'one minute';
      const api = containers(objects).find((ref) => ref.workload.metadata.name === 'cqrs-api')!;
      const { loadConfig } = await importConfigModule();

      // Act
      const load = () => loadConfig(Object.fromEntries(resolvedEnv(api, objects)));

      // Assert
      expect(load).to.throw(/RATE_LIMIT_DURATION/);
    });
  });
});

type LoadConfig = (source: Record<string, string | undefined>) => unknown;

/** The service's config schema (src/platform/config.ts), owned by the application. */
async function importConfigModule(): Promise<{ loadConfig: LoadConfig }> {
  const module = (await import(pathToFileURL(repoPath('src/platform/config.ts')).href)) as Record<string, unknown>;
  if (typeof module.loadConfig !== 'function') throw new Error('src/platform/config.ts no longer exports loadConfig(env)');
  return { loadConfig: module.loadConfig as LoadConfig };
}

/** The literal environment of a container, with Secret values as placeholders and $(VAR) expanded as the kubelet does. */
function resolvedEnv(ref: ContainerRef, objects: K8sObject[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const [name, value] of effectiveEnv(ref, objects)) {
    // SECRET_ENCRYPTION_KEYS has a shape the schema checks: a placeholder of that shape.
    const placeholder =
      name === 'SECRET_ENCRYPTION_KEYS' ? `placeholder:${Buffer.alloc(32).toString('base64')}` : 'placeholder0secret';
    const literal = value ?? placeholder;
    env.set(
      name,
      literal.replace(/\$\(([A-Z0-9_]+)\)/g, (whole, variable: string) => env.get(variable) ?? whole),
    );
  }
  return env;
}

const CONNECTION_PARTS = new Set(['DB_USER', 'DB_PASSWORD', 'REDIS_PASSWORD']);

function isServiceSetting(name: string): boolean {
  return !CONNECTION_PARTS.has(name) && !name.startsWith('OTEL_') && name !== 'NODE_OPTIONS';
}

/**
 * OTEL_* are read by the OpenTelemetry SDK itself and NODE_OPTIONS by Node; everything else must be
 * in the one config schema.
 */
function knownSetting(name: string, configSource: string): boolean {
  return new RegExp(`\\b${name}\\b`).test(configSource);
}
