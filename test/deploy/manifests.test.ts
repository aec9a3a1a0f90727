import { expect } from 'chai';
import { validateManifests, validateSchemas } from './support/kube-schema.js';
import { expectNoProblems, expectProblem } from './support/expect.js';
import { find, type K8sObject } from './support/k8s.js';
import { findKubectl, render } from './support/render.js';

/**
 * Every overlay renders (kubectl kustomize) and every object validates against the Kubernetes,
 * Istio, KEDA and CloudNativePG schemas of the kubernetes-models packages, including unknown
 * fields. No cluster is needed.
 */
const OVERLAYS = ['k8s/overlays/dev', 'k8s/overlays/dev-sync', 'k8s/overlays/prod'];

const key = (object: K8sObject) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;

describe('Kubernetes manifests', function () {
  this.timeout(60_000);

  for (const overlay of OVERLAYS) {
    it(`When ${overlay} is rendered, then every object validates against its schema`, async () => {
      // Arrange
      const objects = render(overlay);

      // Act
      const problems = await validateManifests(objects);

      // Assert
      expect(objects.length).to.be.greaterThan(50);
      expectNoProblems(problems);
    });

    it(`When ${overlay} is rendered as skaffold's two stages, then together they are exactly the overlay`, () => {
      // Arrange
      const combined = render(overlay);

      // Act
      const stages = [...render(`${overlay}/platform`), ...render(`${overlay}/app`)];

      // Assert
      expect(stages.map(key).sort()).to.deep.equal(combined.map(key).sort());
      expect(new Set(stages.map(key)).size, 'an object is in both stages').to.equal(stages.length);
      expect(render(`${overlay}/platform`).map((o) => o.kind)).to.include('Job');
    });
  }

  it('When the backup component is enabled on the production platform, then it still validates', async () => {
    // Arrange
    const objects = render('test/deploy/fixtures/prod-with-backup');

    // Act
    const problems = await validateManifests(objects);

    // Assert
    expectNoProblems(problems);
    expect(find(objects, 'Cluster', 'cqrs-db').spec).to.have.nested.property('plugins[0].isWALArchiver', true);
    find(objects, 'ScheduledBackup', 'cqrs-db-nightly');
  });

  it('When no kubectl can be found, then rendering fails with instructions instead of skipping', () => {
    // Act
    const lookUp = () => findKubectl(['/nonexistent/kubectl']);

    // Assert
    expect(lookUp).to.throw(/kubectl not found .* cannot be rendered and checked/);
  });

  it('When an object has a kind no schema package knows, then validation reports it instead of passing', async () => {
    // Arrange
    const objects: K8sObject[] = [
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'mystery' } },
      { apiVersion: 'apps/v1', kind: 'DeploymentSpec', metadata: { name: 'not-a-top-level-kind' } },
      { apiVersion: 'v1', kind: 'ConfigMapp', metadata: { name: 'typo' } },
    ];

    // Act
    const problems = await validateSchemas(objects);

    // Assert
    expectProblem(problems, 'Widget/mystery', /unknown kind/);
    expectProblem(problems, 'DeploymentSpec/not-a-top-level-kind', /unknown kind/);
    expectProblem(problems, 'ConfigMapp/typo', /unknown kind/);
  });

  it('When rendered objects are broken in place, then validation reports the type error and the unknown fields', async () => {
    // Arrange
    const objects = render('k8s/overlays/prod');
    const api = find(objects, 'Deployment', 'cqrs-api') as K8sObject & { spec: { replicas?: unknown } };
    api.spec.replicas = 'two';
    const virtualService = find(objects, 'VirtualService', 'cqrs-api') as K8sObject & { spec: Record<string, unknown> };
    virtualService.spec.gateway = ['cqrs-gateway'];
    const cluster = find(objects, 'Cluster', 'cqrs-db') as K8sObject & { spec: Record<string, unknown> };
    cluster.spec.storge = { size: '1Gi' };

    // Act
    const problems = await validateManifests([api, virtualService, cluster]);

    // Assert
    expectProblem(problems, 'Deployment/cqrs-api', /schema: \/spec\/replicas must be integer/);
    expectProblem(problems, 'VirtualService/cqrs-api', /unknown field "gateway"/);
    expectProblem(problems, 'Cluster/cqrs-db', /unknown field "storge"/);
  });

  it('When the broken fixture overlay is rendered, then validation reports each break', async () => {
    // Arrange
    const objects = render('test/deploy/fixtures/broken-overlay');

    // Act
    const problems = await validateManifests(objects);

    // Assert
    expectProblem(problems, 'Widget/mystery', /unknown kind/);
    expectProblem(problems, 'Deployment/cqrs-api', /containerPort must be integer/);
    expectProblem(problems, 'Deployment/cqrs-payments', /unknown field "readinesProbe"/);
  });
});
