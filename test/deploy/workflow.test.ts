import { expect } from 'chai';
import { get, records, strings, type Mutable } from './support/k8s.js';
import { isRecord, readRepoFile, readYaml, repoFileExists } from './support/repo.js';

/**
 * The GitHub workflow runs the same npm scripts as .ci/run, in the same order, so the two
 * cannot drift; it tests against PostgreSQL 15 and Redis 7, builds both images, and deploys
 * with `skaffold run -p prod`.
 */
const CONTRACT = [
  'npm ci',
  'npm run lint',
  'npm run typecheck',
  'npm run openapi:check',
  'npm run deps:check',
  'npm run new:check',
  'npm run test:local',
  'npm run test:fuzz',
  'npm run test:images',
  'npm run test:chaos',
];

/** npm invocations of a shell script, in order (`npm t` and `npm run test` read as `npm test`). */
function npmSteps(script: string): string[] {
  return script
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => [...line.matchAll(/\bnpm\s+(ci|test|t|run(?:-script)?\s+[\w:.-]+)(?=\s|;|&|\||$)/g)].map((m) => m[1]!))
    .map((step) => step.replace(/^run(?:-script)?\s+/, 'run '))
    .map((step) => (step === 't' || step === 'run test' ? 'npm test' : `npm ${step}`));
}

function workflowProblems(workflow: unknown, ciRun: string, nodeVersion: string): string[] {
  const problems: string[] = [];
  const jobs = isRecord(get(workflow, 'jobs')) ? (get(workflow, 'jobs') as Record<string, unknown>) : {};
  const testSteps = records(get(jobs.test, 'steps'));
  const workflowNpm = npmSteps(testSteps.map((step) => String(step.run ?? '')).join('\n')).filter(
    (step) => step !== 'npm run build',
  );
  const ciNpm = npmSteps(ciRun);
  if (JSON.stringify(workflowNpm) !== JSON.stringify(ciNpm))
    problems.push(`test job runs [${workflowNpm.join(', ')}] but .ci/run runs [${ciNpm.join(', ')}]`);
  if (JSON.stringify(ciNpm) !== JSON.stringify(CONTRACT))
    problems.push(`.ci/run runs [${ciNpm.join(', ')}], not the agreed [${CONTRACT.join(', ')}]`);

  if (!/^postgres:15(\.\d+)*$/.test(String(get(jobs.test, 'services', 'postgres', 'image'))))
    problems.push('test job: PostgreSQL service is not postgres:15');
  if (!/^redis:7(\.\d+)*$/.test(String(get(jobs.test, 'services', 'redis', 'image'))))
    problems.push('test job: Redis service is not redis:7');
  if (get(jobs.test, 'env', 'DATABASE_URL') !== 'postgres://postgres:postgres@localhost:5432/postgres')
    problems.push('test job: DATABASE_URL differs');
  if (get(jobs.test, 'env', 'REDIS_URL') !== 'redis://localhost:6379') problems.push('test job: REDIS_URL differs');
  if (get(workflow, 'env', 'NODE_VERSION') !== nodeVersion)
    problems.push(`NODE_VERSION is not ${nodeVersion} (package.json devDependency node)`);

  const allSteps = Object.values(jobs).flatMap((job) => records(get(job, 'steps')));
  for (const uses of allSteps.map((step) => step.uses).filter((u): u is string => typeof u === 'string')) {
    if (!/@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/.test(uses)) problems.push(`${uses} is not pinned to a release or commit`);
  }
  const dockerfiles = strings(get(jobs.images, 'strategy', 'matrix', 'image')).map((image) => `Dockerfile.${image}`);
  if (dockerfiles.length === 0 || dockerfiles.some((file) => !repoFileExists(file)))
    problems.push(`images job builds ${dockerfiles.join(', ') || 'nothing'}`);
  const deployRuns = records(get(jobs.deploy, 'steps')).map((step) => String(step.run ?? ''));
  if (!deployRuns.some((run) => /^skaffold run -p prod\b/m.test(run)))
    problems.push('deploy job does not run `skaffold run -p prod`');
  if (!String(get(jobs.deploy, 'if') ?? '').includes("github.ref == 'refs/heads/main'"))
    problems.push('deploy job is not limited to main');
  if (!strings(get(jobs.deploy, 'needs')).includes('test')) problems.push('deploy job does not wait for the tests');
  if (get(workflow, 'permissions', 'contents') !== 'read' || Object.keys(get(workflow, 'permissions') ?? {}).length !== 1) {
    problems.push('default token permissions are not read-only');
  }
  return problems;
}

function nodeVersion(): string {
  const pkg = JSON.parse(readRepoFile('package.json')) as { devDependencies?: Record<string, string> };
  return pkg.devDependencies?.node ?? '(none)';
}

function ciRunScript(): string {
  if (!repoFileExists('.ci/run'))
    throw new Error('.ci/run (owned by the lead) is missing: the workflow has nothing to stay in step with');
  return readRepoFile('.ci/run');
}

describe('GitHub workflow', () => {
  it('When .github/workflows/ci.yml is read, then it runs .ci/run’s npm scripts in order, against PostgreSQL 15 and Redis 7, then builds and deploys', () => {
    // Arrange
    const workflow = readYaml('.github/workflows/ci.yml');

    // Act
    const problems = workflowProblems(workflow, ciRunScript(), nodeVersion());

    // Assert
    expect(problems).to.deep.equal([]);
  });

  it('When the workflow and .ci/run drift apart, then the check reports it', () => {
    // Arrange
    const workflow = structuredClone(readYaml('.github/workflows/ci.yml')) as Mutable;
    workflow.jobs.test.steps = workflow.jobs.test.steps.filter((step: Record<string, unknown>) => step.run !== 'npm run lint');
    workflow.jobs.test.services.postgres.image = 'postgres:16';
    workflow.jobs.deploy.steps.find((step: Record<string, unknown>) => step.run === 'skaffold run -p prod').run =
      'kubectl apply -k k8s/overlays/prod';
    workflow.jobs.test.steps[0].uses = 'actions/checkout@main';
    const ciRun = [
      '#!/usr/bin/env bash',
      'set -euo pipefail',
      'npm ci',
      'npm run lint',
      'npm run typecheck',
      'npm run deps:check',
      'npm run test:local',
    ].join('\n');

    // Act
    const problems = workflowProblems(workflow, ciRun, nodeVersion());

    // Assert
    for (const pattern of [
      /test job runs \[npm ci, npm run typecheck/,
      /not postgres:15/,
      /does not run `skaffold run -p prod`/,
      /actions\/checkout@main is not pinned/,
    ]) {
      expect(
        problems.some((p) => pattern.test(p)),
        `${String(pattern)} in:\n${problems.join('\n')}`,
      ).to.equal(true);
    }
  });
});
