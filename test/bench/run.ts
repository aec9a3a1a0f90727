/**
 * `npm run bench`: the service as production runs it (compiled, separate API and worker
 * processes, NODE_ENV=production, RS256 tokens, info JSON logs, OpenTelemetry exporting with the
 * production sampler) against hand-written raw baselines and against the starting commit, in
 * interleaved A/B pairs on this machine's PostgreSQL and Redis (own databases and key prefixes,
 * dropped afterwards). Writes bench-results/<time>.{json,md} and latest.{json,md}; exits 1 when a
 * run is invalid (non-2xx, errors, timeouts, lost or duplicated effects, a crashed process).
 *
 * Environment (defaults in brackets): BENCH_SECONDS [10] per closed-loop run, BENCH_WARMUP_SECONDS
 * [3] (API and freshness runs), BENCH_PAIRS [3], BENCH_CONNECTIONS [20], BENCH_PIPELINE_SECONDS [20] of
 * orders per pipeline and freshness run, BENCH_PIPELINE_WARMUP_SECONDS [10] of orders before each
 * pipeline, scale-out and drain run (left to settle, not counted), BENCH_DRAIN_SECONDS [10] of orders
 * whose events wait in the paused projections queue before a drain run, BENCH_RATE [50] orders/s of the open-loop freshness load, BENCH_BASELINE
 * [5994be8] (git ref of the pipeline comparison, or `skip`), BENCH_FRESHNESS_ROLES
 * [relay|projections|payments,expiry,webhooks] (the freshness runs' worker processes, `|` between processes),
 * BENCH_SCALEOUT_ROLES [relay|relay|projections|projections|payments,expiry,webhooks] (the scaled-out
 * layout, compared with one process of each), BENCH_KEEP_BASELINE [0] (keep its
 * worktree for the next run), BENCH_SCENARIOS [api,pipeline,freshness,scaleout,drain],
 * BENCH_NODE_OPTIONS [the manifests' heap flags], BENCH_BASELINE_NODE_OPTIONS [none] (the baseline commit's
 * processes: the starting commit had no heap flags; set it to the same flags as BENCH_NODE_OPTIONS when
 * BENCH_BASELINE is a recent commit, to A/B code alone), BENCH_NODE_FLAGS [none] (flags for every service
 * process's node command line, such as V8's `--concurrent-recompilation-queue-length=1`, which
 * NODE_OPTIONS refuses), BENCH_PROFILE [0] (1: a CPU profile per process
 * and a heap snapshot at the end of each load, in the run's logs folder; summarize them with
 * `tsx test/bench/profile-summary.ts <folder>`), BENCH_SERVICE_ENV [none] (a JSON object of extra
 * environment variables for every process of the service, e.g. `{"DATABASE_POOL_MAX":"30"}`, to
 * try a setting without a rebuild), DATABASE_URL, REDIS_URL.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchContext, BenchSettings } from './lib/context.js';
import { buildBaseline, signingKeys, startOtlpSink } from './lib/environment.js';
import { renderMarkdown } from './lib/report.js';
import { apiScenario } from './scenarios/api.js';
import { freshnessScenario } from './scenarios/freshness.js';
import { compareDrains } from './scenarios/drain.js';
import { comparePipelines } from './scenarios/pipeline.js';

const env = process.env;
const settings: BenchSettings = {
  seconds: Number(env.BENCH_SECONDS ?? 10),
  warmupSeconds: Number(env.BENCH_WARMUP_SECONDS ?? 3),
  pairs: Number(env.BENCH_PAIRS ?? 3),
  connections: Number(env.BENCH_CONNECTIONS ?? 20),
  rate: Number(env.BENCH_RATE ?? 50),
  // As k8s/ deploys it: the relay and the projections each in their own process (their own
  // Deployments there); payments, expiry and webhooks, off the freshness path, share a third.
  freshnessRoles: (env.BENCH_FRESHNESS_ROLES ?? 'relay|projections|payments,expiry,webhooks').split('|').map((s) => s.trim()),
  pipelineSeconds: Number(env.BENCH_PIPELINE_SECONDS ?? 20),
  // Long enough for every process to compile its hot paths: a layout with more processes pays
  // that once per process, and after 3 s the scaled-out layout's projections were still at it
  // (docs/performance.md, "Scale-out measured cold, and what woke the workers").
  pipelineWarmupSeconds: Number(env.BENCH_PIPELINE_WARMUP_SECONDS ?? 10),
  drainLoadSeconds: Number(env.BENCH_DRAIN_SECONDS ?? 10),
  baseline: env.BENCH_BASELINE ?? '5994be8',
  scenarios: (env.BENCH_SCENARIOS ?? 'api,pipeline,freshness,scaleout,drain').split(',').map((s) => s.trim()),
  // The same heap flags as the Kubernetes manifests' NODE_OPTIONS (docs/performance.md says why).
  nodeOptions: env.BENCH_NODE_OPTIONS ?? '--max-old-space-size=128 --max-semi-space-size=8',
  // None, as the starting commit ran. A recent commit run without the flags has more memory and less
  // GC than this checkout: an A/A run gave 0.92x (docs/performance.md, "What the pipeline ratio
  // follows, the heap flags in an A/B, and three ideas that bought nothing").
  baselineNodeOptions: env.BENCH_BASELINE_NODE_OPTIONS ?? '',
  profile: env.BENCH_PROFILE === '1',
};

const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const resultsDir = resolve('bench-results');
const logDir = join(resultsDir, `logs-${stamp}`);
mkdirSync(join(logDir, 'profiles'), { recursive: true });
const problems: string[] = [];
const began = performance.now();
const progress = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(0).padStart(4)}s] ${line}`);

const keys = signingKeys();
const otlp = await startOtlpSink();
const wantsBaseline = settings.scenarios.includes('pipeline') && settings.baseline !== 'skip';
const baseline = wantsBaseline ? await buildBaseline(settings.baseline, progress) : undefined;
const context: BenchContext = {
  settings,
  projectDir: process.cwd(),
  baselineDir: baseline?.dir,
  serverDatabaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  publicKeyPem: keys.publicKeyPem,
  privateKey: keys.privateKey,
  otlpUrl: otlp.url,
  logDir,
  progress,
  invalid: (reason) => {
    problems.push(reason);
    progress(`INVALID: ${reason}`);
  },
};

const results: Record<string, unknown> = {
  startedAt: startedAt.toISOString(),
  settings,
  machine: { cpus: cpus().length, loadAverageAtStart: loadavg().map((l) => Math.round(l * 10) / 10), node: process.version },
};
process.on('uncaughtException', (error) => context.invalid(`uncaught: ${error.stack ?? error.message}`));
// The scale-out and drain scenarios compare the same two layouts.
const oneOfEach = { label: 'one-of-each', roles: ['relay', 'projections', 'payments,expiry,webhooks'] };
const scaledOut = {
  label: 'two-relays-two-projections',
  roles: (env.BENCH_SCALEOUT_ROLES ?? 'relay|relay|projections|projections|payments,expiry,webhooks').split('|'),
};
try {
  if (settings.scenarios.includes('api')) results.api = await apiScenario(context);
  if (settings.scenarios.includes('pipeline')) {
    results.pipeline = await comparePipelines(
      context,
      'pipeline',
      { label: 'today', roles: ['all'] },
      baseline
        ? { label: `start-${settings.baseline}`, roles: ['all'], dir: baseline.dir }
        : { label: 'today-again', roles: ['all'] },
    );
  }
  if (settings.scenarios.includes('freshness')) results.freshness = await freshnessScenario(context);
  if (settings.scenarios.includes('scaleout'))
    results.scaleout = await comparePipelines(context, 'scale-out', scaledOut, oneOfEach);
  if (settings.scenarios.includes('drain')) results.drain = await compareDrains(context, 'drain', scaledOut, oneOfEach);
} catch (error) {
  context.invalid(`the run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await otlp.close();
  if (baseline && env.BENCH_KEEP_BASELINE !== '1') await baseline.remove().catch(() => undefined);
}

results.otlpExportRequests = otlp.received();
results.machine = { ...(results.machine as object), loadAverageAtEnd: loadavg().map((l) => Math.round(l * 10) / 10) };
results.durationSeconds = Math.round((performance.now() - began) / 1000);
results.valid = problems.length === 0;
results.problems = problems;
const json = `${JSON.stringify(results, null, 2)}\n`;
const markdown = renderMarkdown(results);
for (const name of [stamp, 'latest']) {
  writeFileSync(join(resultsDir, `${name}.json`), json);
  writeFileSync(join(resultsDir, `${name}.md`), markdown);
}
console.log(`\n${markdown}`);
console.log(`results: ${join(resultsDir, `${stamp}.json`)} (and .md); process logs: ${logDir}`);
if (problems.length) {
  console.error(`INVALID RUN:\n  ${problems.join('\n  ')}`);
  process.exitCode = 1;
}
