import { Ajv } from 'ajv';
import { expect } from 'chai';
import { parseDockerfile, instructions, stageNamed } from './support/dockerfile.js';
import { byKind, containers, get, records, strings, type K8sObject, type Mutable } from './support/k8s.js';
import { render } from './support/render.js';
import { cleanCheckoutFiles, isRecord, readRepoFile, readYamlDocuments, repoFileExists } from './support/repo.js';
import { skaffoldConfigSchema } from './support/skaffold-schema.js';

/**
 * skaffold.yaml: structure (against the schema in support/skaffold-schema.ts, which explains
 * its limits) and meaning: artifacts come from real Dockerfile stages, file sync lands where the
 * dev stage keeps the sources, each profile deploys both stages of one overlay, hooks and
 * port-forwards name objects that the overlay renders, and the smoke test calls the real host.
 */
type Config = Mutable;

const configs = () => readYamlDocuments('skaffold.yaml') as Config[];

function validator() {
  return new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(skaffoldConfigSchema);
}

/** A config as skaffold sees it with a profile active: profile sections replace, then patches apply. */
function withProfile(config: Config, profileName: string | undefined): Config {
  const effective = structuredClone(config);
  const profile = records(config.profiles).find((p) => p.name === profileName);
  if (!profile) return effective;
  for (const section of ['build', 'manifests', 'deploy', 'portForward', 'verify']) {
    if (profile[section] !== undefined) effective[section] = structuredClone(profile[section]);
  }
  for (const patch of records(profile.patches)) {
    const steps = String(patch.path).split('/').slice(1);
    const last = steps.pop()!;
    const parent = steps.reduce<unknown>((node, step) => (node as Record<string, unknown>)[step], effective) as Record<
      string,
      unknown
    >;
    if (patch.op === 'remove') delete parent[last];
    else parent[last] = patch.value;
  }
  return effective;
}

const PROFILES = [
  { profile: undefined, overlay: 'k8s/overlays/dev', target: 'runtime' },
  { profile: 'dev', overlay: 'k8s/overlays/dev-sync', target: 'dev' },
  { profile: 'prod', overlay: 'k8s/overlays/prod', target: 'runtime' },
];

/**
 * What each image target can run: the runtime stage holds compiled `dist/` and production
 * dependencies (no npm scripts that need tsx or sources); the dev stage holds sources, no `dist/`.
 */
function commandTargetProblems(rendered: K8sObject[], images: Set<string>, target: string): string[] {
  return containers(rendered)
    .filter((ref) => images.has(String(ref.container.image)))
    .flatMap((ref) => {
      const command = [...strings(ref.container.command), ...strings(ref.container.args)];
      const where = `${ref.workload.kind}/${ref.workload.metadata.name} runs \`${command.join(' ')}\``;
      if (target === 'runtime' && command[0] !== 'node') return [`${where}, which the runtime image cannot run`];
      if (target === 'dev' && command.some((arg) => arg.includes('dist/'))) return [`${where}, but the dev image has no dist/`];
      return [];
    });
}

function skaffoldProblems(all: Config[]): string[] {
  const problems: string[] = [];
  const files = cleanCheckoutFiles();
  const [platform, app] = all;
  if (platform?.metadata?.name !== 'platform' || app?.metadata?.name !== 'app')
    problems.push('configs must be `platform` then `app`');
  if (!strings(get(app, 'requires', 0, 'configs')).includes('platform'))
    problems.push('app does not require platform (deploy order)');

  for (const { profile, overlay, target } of PROFILES) {
    const label = `profile ${profile ?? '(default)'}`;
    const effective = all.map((config) => withProfile(config, profile));
    const paths = effective.flatMap((config) => strings(get(config, 'manifests', 'kustomize', 'paths')));
    if (JSON.stringify(paths) !== JSON.stringify([`${overlay}/platform`, `${overlay}/app`])) {
      problems.push(`${label}: deploys ${paths.join(', ')}, not ${overlay}/platform then ${overlay}/app`);
    }
    const rendered: K8sObject[] = paths
      .filter((path) => repoFileExists(`${path}/kustomization.yaml`))
      .flatMap((path) => render(path));
    const artifacts = effective.flatMap((config) => records(get(config, 'build', 'artifacts')));
    const usedImages = new Set(
      rendered.flatMap((o) => JSON.stringify(o).match(/"image":"(cqrs-[a-z]+)"/g) ?? []).map((m) => m.slice(9, -1)),
    );
    const builtImages = new Set(artifacts.map((a) => String(a.image)));
    if ([...usedImages].sort().join() !== [...builtImages].sort().join()) {
      problems.push(`${label}: builds ${[...builtImages].join(', ')} but the manifests use ${[...usedImages].join(', ')}`);
    }
    problems.push(...commandTargetProblems(rendered, builtImages, target).map((p) => `${label}: ${p}`));
    for (const artifact of artifacts) {
      const dockerfile = String(get(artifact, 'docker', 'dockerfile') ?? 'Dockerfile');
      if (!files.has(dockerfile)) {
        problems.push(`${label}: ${dockerfile} does not exist`);
        continue;
      }
      const stages = parseDockerfile(readRepoFile(dockerfile));
      const artifactTarget = String(get(artifact, 'docker', 'target'));
      if (artifactTarget !== target || !stageNamed(stages, artifactTarget))
        problems.push(`${label}: ${String(artifact.image)} builds stage ${artifactTarget}, expected ${target}`);
      for (const rule of records(get(artifact, 'sync', 'manual'))) {
        const topDir = String(rule.src).split('/')[0] ?? '';
        const pattern = new RegExp(
          `^${String(rule.src)
            .replace(/\./g, '\\.')
            .replace(/\*\*\//g, '(?:.*/)?')
            .replace(/\*/g, '[^/]*')}$`,
        );
        if (![...files].some((file) => pattern.test(file)))
          problems.push(`${label}: sync rule ${String(rule.src)} matches no file`);
        const devStage = stageNamed(stages, artifactTarget);
        const copied =
          devStage && instructions(devStage, 'COPY').some((c) => c.args[0] === topDir && c.args[1] === `./${topDir}`);
        if (rule.dest !== '.' || !copied)
          problems.push(
            `${label}: sync ${String(rule.src)} -> ${String(rule.dest)} does not land where ${dockerfile} stage ${artifactTarget} keeps ${topDir}/`,
          );
      }
    }
    const job = byKind(rendered, 'Job')[0];
    for (const hook of effective.flatMap((c) => [
      ...records(get(c, 'deploy', 'kubectl', 'hooks', 'before')),
      ...records(get(c, 'deploy', 'kubectl', 'hooks', 'after')),
    ])) {
      const [shell, script, namespace, name] = strings(get(hook, 'host', 'command'));
      if (shell !== 'sh' || !script || !repoFileExists(script))
        problems.push(`${label}: hook runs ${String(script)}, which does not exist`);
      if (!job || job.metadata.namespace !== namespace || job.metadata.name !== name)
        problems.push(`${label}: hook names job ${String(namespace)}/${String(name)}, which the overlay does not render`);
    }
    for (const forward of effective.flatMap((c) => records(c.portForward))) {
      const service = rendered.find(
        (o) => o.kind === 'Service' && o.metadata.name === forward.resourceName && o.metadata.namespace === forward.namespace,
      );
      if (!service || !records(get(service, 'spec', 'ports')).some((p) => p.port === forward.port)) {
        problems.push(
          `${label}: port-forward ${String(forward.namespace)}/${String(forward.resourceName)}:${String(forward.port)} is not a rendered Service port`,
        );
      }
    }
    const virtualService = rendered.find((o) => o.kind === 'VirtualService');
    for (const test of effective.flatMap((c) => records(c.verify))) {
      const image = String(get(test, 'container', 'image'));
      if (!/:[\w][\w.-]*$/.test(image) || image.endsWith(':latest'))
        problems.push(`${label}: verify image ${image} is not pinned`);
      const url = records(get(test, 'container', 'env')).find((e) => e.name === 'SMOKE_URL')?.value;
      const host = /^https?:\/\/([^/:]+)/.exec(String(url))?.[1];
      const hosts = strings(get(virtualService, 'spec', 'hosts'));
      if (!host || !(hosts.includes(host) || hosts.includes('*')))
        problems.push(`${label}: smoke test calls ${String(url)}, but the VirtualService serves ${hosts.join(', ')}`);
    }
    if (profile === 'prod') {
      const platformBuild = effective[0]?.build;
      if (get(platformBuild, 'local', 'push') !== true) problems.push(`${label}: images are not pushed`);
      if (get(platformBuild, 'tagPolicy', 'gitCommit', 'variant') !== 'CommitSha')
        problems.push(`${label}: images are not tagged by commit`);
    }
  }
  return problems;
}

describe('skaffold.yaml', function () {
  this.timeout(30_000);

  it('When each config is validated against the skaffold schema, then it conforms', () => {
    // Arrange
    const validate = validator();

    // Act
    const errors = configs().flatMap((config) => (validate(config) ? [] : (validate.errors ?? [])));

    // Assert
    expect(errors).to.deep.equal([]);
  });

  it('When a config has a misspelt or misplaced key, then the schema refuses it', () => {
    // Arrange
    const validate = validator();
    const [platform, app] = configs();
    platform!.profiles[0].build.artifacts[0].sync.manual[0].destination = '.';
    app!.portforward = app!.portForward;

    // Act
    const platformValid = validate(platform);
    const platformErrors = validate.errors ?? [];
    const appValid = validate(app);

    // Assert
    expect(platformValid).to.equal(false);
    expect(platformErrors.some((e) => e.params && isRecord(e.params) && e.params.additionalProperty === 'destination')).to.equal(
      true,
    );
    expect(appValid).to.equal(false);
  });

  it('When the profiles are resolved, then each builds real Dockerfile stages and deploys both stages of one overlay', () => {
    expect(skaffoldProblems(configs())).to.deep.equal([]);
  });

  it('When skaffold.yaml drifts from the Dockerfiles and manifests, then the checks report each drift', () => {
    // Arrange
    const [platform, app] = configs();
    platform!.profiles[0].build.artifacts[0].docker.target = 'develop';
    platform!.profiles[0].build.artifacts[1].sync.manual[0].dest = '/srv';
    platform!.deploy.kubectl.hooks.after[0].host.command[3] = 'migrations';
    app!.portForward[0].port = 3000;
    app!.manifests.kustomize.paths = ['k8s/overlays/prod/app'];
    app!.profiles.find((p: Config) => p.name === 'prod').patches[0].value = 'https://wrong.example.org';
    app!.profiles.find((p: Config) => p.name === 'dev').manifests.kustomize.paths = ['k8s/overlays/dev/app'];
    platform!.manifests.kustomize.paths = ['k8s/overlays/dev-sync/platform'];

    // Act
    const problems = skaffoldProblems([platform!, app!]);

    // Assert
    for (const pattern of [
      /profile dev: cqrs-api builds stage develop/,
      /profile dev: sync src\/\*\*\/\*\.ts -> \/srv/,
      /hook names job cqrs\/migrations/,
      /port-forward cqrs\/cqrs-api:3000/,
      /profile \(default\): deploys k8s\/overlays\/dev-sync\/platform, k8s\/overlays\/prod\/app/,
      /profile \(default\): Job\/cqrs-migrate runs `npm run migrate`, which the runtime image cannot run/,
      /profile dev: Deployment\/cqrs-api runs `node .*dist\/src\/api\/server.js`, but the dev image has no dist\//,
      /profile prod: smoke test calls https:\/\/wrong\.example\.org/,
    ]) {
      expect(
        problems.some((p) => pattern.test(p)),
        `${String(pattern)} in:\n${problems.join('\n')}`,
      ).to.equal(true);
    }
  });
});
