import path from 'node:path';
import { instructions, lineage, parseDockerfile, stageNamed, workdir, type Instruction, type Stage } from './dockerfile.js';
import { commandLineProblems, type BuildContract } from './pod-policies.js';

export interface ImageContract extends BuildContract {
  /** Every file a clean checkout holds (repository-relative). */
  checkoutFiles: Set<string>;
  /** .dockerignore applied to a repository-relative path. */
  isIgnored: (file: string) => boolean;
  /** The Node version the project runs on (package.json devDependency `node`). */
  nodeVersion: string;
  /** tsconfig outDir, relative to the build stage's WORKDIR. */
  outDir: string;
  /** What the production image runs (e.g. dist/src/api/server.js). */
  entry: string;
  /** npm script the dev stage runs (e.g. dev:api). */
  devScript: string;
  port: string;
}

const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE|API_KEY|CREDENTIAL/i;

/** Checks a Dockerfile without a Docker engine. Returns human-readable problems; none means it fits. */
export function dockerfileProblems(text: string, contract: ImageContract): string[] {
  const stages = parseDockerfile(text);
  const problems: string[] = [];
  const runtime = stages.at(-1);
  const dev = stageNamed(stages, 'dev');
  if (!runtime || runtime.name !== 'runtime') problems.push('the last (default) stage must be `runtime`');
  if (!dev) problems.push('no `dev` stage for hot reload');

  stages.forEach((stage, index) => {
    const label = stage.name ?? `#${index}`;
    problems.push(...baseImageProblems(stages, stage, index, contract).map((p) => `stage ${label}: ${p}`));
    for (const copy of instructions(stage, 'COPY'))
      problems.push(...copyProblems(stages, stage, index, copy, contract).map((p) => `stage ${label}: ${p}`));
    for (const run of instructions(stage, 'RUN'))
      problems.push(...runProblems(stages, stage, run, contract).map((p) => `stage ${label}: ${p}`));
    for (const declaration of [...instructions(stage, 'ARG'), ...instructions(stage, 'ENV')]) {
      const names = declaration.args.map((arg) => arg.split('=')[0] ?? '');
      for (const name of names.filter((n) => SECRET_NAME.test(n)))
        problems.push(`stage ${label}: ${declaration.keyword} ${name} bakes a secret into the image`);
    }
  });
  if (runtime) problems.push(...runtimeProblems(stages, runtime, contract).map((p) => `stage runtime: ${p}`));
  if (dev) problems.push(...devProblems(stages, dev, contract).map((p) => `stage dev: ${p}`));
  return problems;
}

function baseImageProblems(stages: Stage[], stage: Stage, index: number, contract: ImageContract): string[] {
  const earlier = stages.slice(0, index).map((s) => s.name);
  if (earlier.includes(stage.base)) return [];
  if (stageNamed(stages, stage.base)) return [`FROM ${stage.base} refers to a later stage`];
  const [image, tag] = stage.base.split(':');
  if (!tag || tag === 'latest') return [`base image ${stage.base} is not pinned`];
  if (image === 'node' && !new RegExp(`^${contract.nodeVersion.replace(/\./g, '\\.')}-(\\w+-)?slim$`).test(tag)) {
    return [`base image ${stage.base} is not node:${contract.nodeVersion}-slim (package.json devDependency node)`];
  }
  return [];
}

function sourcesAndDestination(copy: Instruction): { sources: string[]; destination: string } {
  const args = [...copy.args];
  const destination = args.pop() ?? '';
  return { sources: args, destination };
}

function resolveIn(directory: string, target: string): string {
  return path.posix.resolve(directory, target);
}

function copyProblems(stages: Stage[], stage: Stage, index: number, copy: Instruction, contract: ImageContract): string[] {
  const { sources } = sourcesAndDestination(copy);
  const from = copy.flags.from;
  if (from) {
    const source = stageNamed(stages, from);
    if (!source || stages.indexOf(source) >= index) return [`COPY --from=${from}: no earlier stage of that name`];
    const produced = producedPaths(stages, source, contract);
    return sources
      .filter((file) => !produced.some((p) => file === p || file.startsWith(`${p}/`)))
      .map((file) => `COPY --from=${from} ${file}: stage ${from} does not produce it (it makes ${produced.join(', ')})`);
  }
  return sources.flatMap((raw) => {
    const file = raw.replace(/^\.\//, '').replace(/\/$/, '');
    if (/(^|\/)\.(npmrc|env)/.test(file)) return [`COPY ${raw}: never copy credentials into an image`];
    const inCheckout = [...contract.checkoutFiles].filter((f) => f === file || f.startsWith(`${file}/`));
    if (inCheckout.length === 0) return [`COPY ${raw}: not in a clean checkout`];
    if (inCheckout.every((f) => contract.isIgnored(f))) return [`COPY ${raw}: excluded by .dockerignore`];
    return [];
  });
}

/** Paths a stage leaves behind: node_modules after `npm ci`, the outDir after `npm run build`, COPY targets. */
function producedPaths(stages: Stage[], stage: Stage, contract: ImageContract): string[] {
  const dir = workdir(stages, stage);
  return lineage(stages, stage).flatMap((instruction) => {
    if (instruction.keyword === 'RUN' && /\bnpm ci\b/.test(instruction.raw)) return [resolveIn(dir, 'node_modules')];
    if (instruction.keyword === 'RUN' && /\bnpm run build\b/.test(instruction.raw)) return [resolveIn(dir, contract.outDir)];
    if (instruction.keyword === 'COPY') {
      const { sources, destination } = sourcesAndDestination(instruction);
      return sources.map((source) =>
        destination.endsWith('/') || sources.length > 1
          ? resolveIn(resolveIn(dir, destination), path.posix.basename(source))
          : resolveIn(dir, destination),
      );
    }
    return [];
  });
}

function runProblems(stages: Stage[], stage: Stage, run: Instruction, contract: ImageContract): string[] {
  const problems: string[] = [];
  const before = lineage(stages, stage);
  const earlier = before.slice(0, before.indexOf(run));
  if (/\bnpm ci\b/.test(run.raw)) {
    const lockfileCopied = earlier.some(
      (i) => i.keyword === 'COPY' && !i.flags.from && i.args.slice(0, -1).includes('package-lock.json'),
    );
    if (!lockfileCopied) problems.push('`npm ci` runs before package-lock.json is copied');
    if (!(run.flags.mount ?? '').includes('type=cache')) problems.push('`npm ci` without a --mount=type=cache for the npm cache');
  }
  for (const match of run.raw.matchAll(/\bnpm run ([\w:.-]+)/g)) {
    if (!(match[1]! in contract.scripts)) problems.push(`npm script "${match[1]}" is not defined in package.json`);
  }
  return problems;
}

function finalUser(stage: Stage): string | undefined {
  return instructions(stage, 'USER').at(-1)?.args[0];
}

function userProblems(user: string | undefined): string[] {
  if (!user) return ['no USER: the image would run as root'];
  const [uid] = user.split(':');
  // Kubernetes can only verify runAsNonRoot for a numeric user.
  if (!/^\d+$/.test(uid ?? '')) return [`USER ${user} is not numeric (runAsNonRoot cannot verify it)`];
  return Number(uid) === 0 ? ['USER is root'] : [];
}

function runtimeProblems(stages: Stage[], runtime: Stage, contract: ImageContract): string[] {
  const problems = userProblems(finalUser(runtime));
  const env = lineage(stages, runtime)
    .filter((i) => i.keyword === 'ENV')
    .flatMap((i) => i.args);
  if (!env.includes('NODE_ENV=production')) problems.push('NODE_ENV is not production');
  const entrypoint = instructions(runtime, 'ENTRYPOINT').at(-1)?.json ?? [];
  if (!/(^|\/)tini$/.test(entrypoint[0] ?? '') || !entrypoint.includes('--'))
    problems.push('ENTRYPOINT is not tini (PID 1 must forward SIGTERM)');
  const cmd = instructions(runtime, 'CMD').at(-1)?.json;
  if (!cmd) problems.push('CMD is not in exec form');
  else {
    problems.push(...commandLineProblems(cmd, contract));
    if (!cmd.some((arg) => arg.replace(/^\.\//, '') === contract.entry)) problems.push(`CMD does not run ${contract.entry}`);
  }
  for (const copy of instructions(runtime, 'COPY')) {
    const { sources } = sourcesAndDestination(copy);
    const from = copy.flags.from;
    if (!from && sources.some((s) => s !== 'package.json'))
      problems.push(`copies ${sources.join(' ')} from the context: compiled output only`);
    if (from) {
      const provider = stageNamed(stages, from);
      const installsDev =
        provider &&
        lineage(stages, provider).some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.raw) && !/--omit=dev/.test(i.raw));
      if (sources.some((s) => s.endsWith('node_modules')) && installsDev)
        problems.push(`node_modules from ${from} include devDependencies`);
    }
  }
  if (!instructions(runtime, 'COPY').some((c) => !c.flags.from && c.args.includes('package.json'))) {
    problems.push('package.json is missing ("type": "module" makes dist/*.js ES modules)');
  }
  if (!instructions(runtime, 'EXPOSE').some((e) => e.args.includes(contract.port)))
    problems.push(`does not EXPOSE ${contract.port}`);
  return problems;
}

function devProblems(stages: Stage[], dev: Stage, contract: ImageContract): string[] {
  const problems = userProblems(finalUser(dev));
  const cmd = instructions(dev, 'CMD').at(-1)?.json ?? [];
  if (cmd.join(' ') !== `npm run ${contract.devScript}`) problems.push(`CMD is not npm run ${contract.devScript}`);
  problems.push(...commandLineProblems(cmd, contract));
  const user = finalUser(dev);
  for (const source of ['src', 'migrations']) {
    const copy = instructions(dev, 'COPY').find((c) => !c.flags.from && c.args[0] === source);
    if (!copy) problems.push(`does not copy ${source}/ (skaffold syncs into it)`);
    else if (copy.flags.chown !== user)
      problems.push(`${source}/ is not owned by the runtime user ${String(user)}: file sync could not write it`);
  }
  return problems;
}
