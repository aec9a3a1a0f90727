import { expect } from 'chai';
import { dockerignore } from './support/dockerfile.js';
import { dockerfileProblems, type ImageContract } from './support/dockerfile-policies.js';
import { tsconfigBuildIncludes } from './support/pod-policies.js';
import { cleanCheckoutFiles, packageScripts, readRepoFile } from './support/repo.js';

/**
 * The images, checked without a Docker engine: every COPY source exists in a clean checkout
 * (and survives .dockerignore) or is produced by an earlier stage, npm steps have what they
 * need, the final stage holds production dependencies and compiled output only, runs as a
 * numeric non-root user under tini, and its CMD runs files the TypeScript build emits.
 * CI builds both images for real (.github/workflows/ci.yml).
 */
const IMAGES = [
  { file: 'Dockerfile.api', entry: 'dist/src/api/server.js', devScript: 'dev:api', port: '8080' },
  { file: 'Dockerfile.worker', entry: 'dist/src/workers/main.js', devScript: 'dev:worker', port: '9464' },
];

function contract(image: (typeof IMAGES)[number]): ImageContract {
  const files = cleanCheckoutFiles();
  const pkg = JSON.parse(readRepoFile('package.json')) as { devDependencies?: Record<string, string> };
  const tsconfig = JSON.parse(readRepoFile('tsconfig.json')) as { compilerOptions?: { outDir?: string } };
  return {
    ...image,
    checkoutFiles: files,
    fileExists: (file) => files.has(file),
    isIgnored: dockerignore(readRepoFile('.dockerignore')),
    nodeVersion: pkg.devDependencies?.node ?? '(no node devDependency)',
    outDir: tsconfig.compilerOptions?.outDir ?? 'dist',
    buildIncludes: tsconfigBuildIncludes(JSON.parse(readRepoFile('tsconfig.build.json'))),
    scripts: packageScripts(),
  };
}

describe('Container images', () => {
  for (const image of IMAGES) {
    it(`When ${image.file} is checked without an engine, then its stages, copies, steps, user and command fit the build`, () => {
      // Arrange
      const text = readRepoFile(image.file);

      // Act
      const problems = dockerfileProblems(text, contract(image));

      // Assert
      expect(problems).to.deep.equal([]);
    });
  }

  it('When the build context is filtered by .dockerignore, then sources stay and build output, secrets and VCS data go', () => {
    // Arrange
    const isIgnored = dockerignore(readRepoFile('.dockerignore'));

    // Act
    const kept = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsoa.json', 'src/api/server.ts', 'migrations/index.ts'];
    const dropped = [
      '.git/config',
      'node_modules/express/index.js',
      'dist/src/api/server.js',
      '.env',
      'src/.env.local',
      '.npmrc',
    ];
    const droppedToo = [
      'src/api/generated/routes.ts',
      'k8s/base/app/api/api.yaml',
      'test/deploy/manifests.test.ts',
      'npm-debug.log',
    ];

    // Assert
    expect(kept.filter(isIgnored), 'wrongly ignored').to.deep.equal([]);
    expect(
      [...dropped, ...droppedToo].filter((file) => !isIgnored(file)),
      'wrongly kept',
    ).to.deep.equal([]);
  });

  it('When a Dockerfile is broken, then each break is reported', () => {
    // Arrange
    const broken = [
      'FROM node:latest AS base',
      'WORKDIR /app',
      'FROM base AS build',
      'COPY package.json ./',
      'RUN npm ci',
      'COPY no-such-dir ./no-such-dir',
      'COPY .npmrc ./',
      'RUN npm run no-such-script',
      'FROM base AS runtime',
      'ARG NPM_TOKEN',
      'COPY src ./src',
      'COPY package.json ./',
      'COPY --from=build /app/node_modules ./node_modules',
      'COPY --from=build /app/out ./dist',
      'USER node',
      'CMD node dist/src/api/server.js',
    ].join('\n');

    // Act
    const problems = dockerfileProblems(broken, contract(IMAGES[0]!));

    // Assert
    const expected = [
      /no `dev` stage/,
      /base image node:latest is not pinned/,
      /`npm ci` runs before package-lock.json is copied/,
      /`npm ci` without a --mount=type=cache/,
      /COPY no-such-dir: not in a clean checkout/,
      /COPY \.npmrc: never copy credentials/,
      /npm script "no-such-script" is not defined/,
      /ARG NPM_TOKEN bakes a secret/,
      /COPY --from=build \/app\/out: stage build does not produce it/,
      /USER node is not numeric/,
      /NODE_ENV is not production/,
      /ENTRYPOINT is not tini/,
      /CMD is not in exec form/,
      /copies src from the context: compiled output only/,
      /node_modules from build include devDependencies/,
      /does not EXPOSE 8080/,
    ];
    for (const pattern of expected)
      expect(
        problems.some((p) => pattern.test(p)),
        `${String(pattern)} in:\n${problems.join('\n')}`,
      ).to.equal(true);
  });
});
