import { expect } from 'chai';
import { expectNoProblems, expectProblem } from './support/expect.js';
import { find, type K8sObject, type Mutable } from './support/k8s.js';
import { render } from './support/render.js';
import { readYaml } from './support/repo.js';
import { trafficProblems, type TrafficMatrix } from './support/traffic-matrix.js';

/**
 * k8s/traffic-matrix.yaml against what each overlay's NetworkPolicies, PeerAuthentication and
 * AuthorizationPolicies allow, in a model of the cluster (test/deploy/support/cluster-model.ts)
 * that includes the pods CloudNativePG creates (instances, initdb and join Jobs, PgBouncer), the
 * operator, DNS, istiod, the ingress gateway, Prometheus, the API server and the internet.
 */
const OVERLAYS = ['k8s/overlays/dev', 'k8s/overlays/dev-sync', 'k8s/overlays/prod'];

const matrix = () => readYaml('k8s/traffic-matrix.yaml') as TrafficMatrix;
const mutable = (object: K8sObject): Mutable => object;

describe('Traffic matrix (k8s/traffic-matrix.yaml)', function () {
  this.timeout(30_000);

  for (const overlay of OVERLAYS) {
    it(`When ${overlay} is checked, then every needed connection goes through, every denied one is blocked, and nothing else is open`, () => {
      expectNoProblems(trafficProblems(render(overlay), matrix()));
    });
  }

  it('When the policy for CloudNativePG Job pods is removed, then initdb and join are reported blocked', () => {
    // Arrange
    const objects = render('k8s/overlays/prod').filter(
      (o) => !(o.kind === 'NetworkPolicy' && o.metadata.name === 'cqrs-db-jobs'),
    );

    // Act
    const problems = trafficProblems(objects, matrix());

    // Assert
    expectProblem(problems, 'cqrs-db-initdb -> kube-apiserver:443/TCP', /blocked: no NetworkPolicy lets cqrs-db-initdb send/);
    expectProblem(problems, 'cqrs-db-join -> cqrs-db:5432/TCP', /blocked: no NetworkPolicy lets cqrs-db-join send/);
  });

  it('When a rule or a principal is removed, then the connections it carried are reported blocked', () => {
    // Arrange
    const objects = render('k8s/overlays/prod');
    const redis = mutable(find(objects, 'AuthorizationPolicy', 'cqrs-redis-from-clients'));
    redis.spec.rules[0].from[0].source.principals = redis.spec.rules[0].from[0].source.principals.filter(
      (p: string) => !p.endsWith('/sa/cqrs-ratelimit'),
    );
    mutable(find(objects, 'NetworkPolicy', 'cqrs-db-instances')).spec.ingress.pop();

    // Act
    const problems = trafficProblems(objects, matrix());

    // Assert
    expectProblem(
      problems,
      'cqrs-ratelimit -> cqrs-redis:6379/TCP',
      /no AuthorizationPolicy allows cluster.local\/ns\/cqrs\/sa\/cqrs-ratelimit/,
    );
    expectProblem(problems, 'prometheus -> cqrs-db:9187/TCP', /no NetworkPolicy lets cqrs-db accept it/);
  });

  it('When a policy opens more than the matrix lists, or lets a denied connection through, then both are reported', () => {
    // Arrange: egress to anywhere on 443 for the webhooks, as before this matrix existed.
    const objects = render('k8s/overlays/prod');
    mutable(find(objects, 'NetworkPolicy', 'cqrs-external-calls')).spec.egress = [{ ports: [{ protocol: 'TCP', port: 443 }] }];
    mutable(find(objects, 'NetworkPolicy', 'cqrs-redis')).spec.ingress[0].from.push({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
    });

    // Act
    const problems = trafficProblems(objects, matrix());

    // Assert
    expectProblem(problems, 'cqrs-webhooks -> another-team:443/TCP', /must be blocked .* but goes through/);
    expectProblem(problems, 'cqrs-webhooks -> ingress-gateway:443/TCP', /not in the traffic matrix/);
    // The second layer holds: another namespace's pod now passes the NetworkPolicy, not Istio.
    expect(problems.map((p) => p.object)).not.to.include('another-team -> cqrs-redis:6379/TCP');
  });

  it('When a container is configured to reach a host that the matrix does not list, then the missing row is reported', () => {
    // Arrange
    const objects = render('k8s/overlays/prod');
    const table = matrix();
    table.allowed = table.allowed.filter((row) => !(row.from === 'cqrs-relay' && row.to === 'cqrs-db'));

    // Act
    const problems = trafficProblems(objects, table);

    // Assert
    expectProblem(
      problems,
      'cqrs-relay -> cqrs-db:5432/TCP',
      /cqrs-relay DATABASE_URL points there, but the traffic matrix has no row/,
    );
    expect(problems.some((p) => /goes through but is not in the traffic matrix/.test(p.message))).to.equal(true);
  });
});
