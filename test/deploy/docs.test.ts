import { expect } from 'chai';
import { get, records, strings } from './support/k8s.js';
import { packageScripts, readRepoFile, readYaml, readYamlDocuments, repoFileExists } from './support/repo.js';

/** docs/deploy.md walks a newcomer through: every file, profile, script and namespace it names exists. */
function docsProblems(markdown: string): string[] {
  const problems: string[] = [];
  const paths = new Set(
    [
      ...markdown.matchAll(
        /(?<![\w/.-])((?:k8s|scripts|docs|test|src|migrations|\.github)\/[\w./-]*[\w-]|Dockerfile\.\w+|docker-compose\.yml|skaffold\.yaml)/g,
      ),
    ].map((m) => m[1]!.replace(/\/$/, '')),
  );
  for (const path of paths) if (!repoFileExists(path)) problems.push(`names ${path}, which does not exist`);

  const profiles = new Set(
    readYamlDocuments('skaffold.yaml').flatMap((config) => records(get(config, 'profiles')).map((p) => String(p.name))),
  );
  for (const m of markdown.matchAll(/skaffold (?:run|dev|verify|deploy|build)\b[^\n`]*?-p (\w+)/g)) {
    if (!profiles.has(m[1]!)) problems.push(`uses skaffold profile ${m[1]}, which skaffold.yaml does not define`);
  }
  const scripts = packageScripts();
  for (const m of markdown.matchAll(/npm run ([\w:.-]+)/g))
    if (!(m[1]! in scripts)) problems.push(`runs npm script ${m[1]}, which package.json does not define`);

  const composeProfiles = new Set(
    Object.values((get(readYaml('docker-compose.yml'), 'services') ?? {}) as Record<string, unknown>).flatMap((s) =>
      strings(get(s, 'profiles')),
    ),
  );
  for (const m of markdown.matchAll(/docker compose --profile ([\w-]+)/g)) {
    if (!composeProfiles.has(m[1]!)) problems.push(`uses compose profile ${m[1]}, which docker-compose.yml does not define`);
  }
  for (const m of markdown.matchAll(/kubectl -n ([\w-]+)/g)) {
    if (!['cqrs', 'istio-system'].includes(m[1]!)) problems.push(`uses namespace ${m[1]}, not the deployment's`);
  }
  return problems;
}

describe('docs/deploy.md', () => {
  it('When the deployment guide is read, then every file, skaffold profile, npm script and namespace it names exists', () => {
    expect(docsProblems(readRepoFile('docs/deploy.md'))).to.deep.equal([]);
  });

  it('When the guide names things that do not exist, then the check reports each', () => {
    // Arrange
    const stale = [
      'Apply `k8s/overlays/staging/kustomization.yaml`, then run `skaffold run -p staging`.',
      'Start with `npm run dev:everything` and `docker compose --profile tracing up`.',
      'Check `kubectl -n default get pods`.',
    ].join('\n');

    // Act
    const problems = docsProblems(stale);

    // Assert
    expect(problems).to.have.members([
      'names k8s/overlays/staging/kustomization.yaml, which does not exist',
      'uses skaffold profile staging, which skaffold.yaml does not define',
      'runs npm script dev:everything, which package.json does not define',
      'uses compose profile tracing, which docker-compose.yml does not define',
      "uses namespace default, not the deployment's",
    ]);
  });
});
