import type { ApiComparison } from '../scenarios/api.js';
import type { DrainComparison, DrainRun } from '../scenarios/drain.js';
import type { FreshnessComparison } from '../scenarios/freshness.js';
import type { PipelineComparison, PipelineRun } from '../scenarios/pipeline.js';
import type { CpuPerUnit } from './processes.js';
import type { RatioSummary } from './stats.js';
import { span } from './stats.js';

const ratio = (summary: RatioSummary) => `**${summary.median}** (${summary.min}-${summary.max})`;

const API_TARGETS: Record<string, number> = {
  'POST /v1/orders': 0.6,
  'GET /v1/orders/{id}': 0.8,
  'GET /v1/orders?limit=20': 0.7,
};

/** The summary table: medians of paired ratios with their range, and the absolute figures behind them. */
export function renderMarkdown(results: Record<string, unknown>): string {
  const lines: string[] = [];
  const settings = results.settings as Record<string, unknown>;
  const machine = results.machine as Record<string, unknown>;
  lines.push(`# Benchmark ${String(results.startedAt)}${results.valid ? '' : ' (INVALID)'}`, '');
  lines.push(
    `Settings: ${JSON.stringify(settings)}. Machine: ${String(machine.cpus)} cores, load average ${JSON.stringify(machine.loadAverageAtStart)} at start, ` +
      `${JSON.stringify(machine.loadAverageAtEnd)} at end, Node ${String(machine.node)}. Duration ${String(results.durationSeconds)} s.`,
    '',
  );
  lines.push('| measure | project | baseline | ratio: median of pairs (range) | target |', '|---|---|---|---|---|');

  const api = results.api as { comparisons: ApiComparison[] } | undefined;
  for (const comparison of api?.comparisons ?? []) {
    const project = comparison.pairs.map((pair) => pair.project);
    const raw = comparison.pairs.map((pair) => pair.raw);
    lines.push(
      `| \`${comparison.endpoint}\` req/s (API alone) | ${span(project.map((r) => r.requestsPerSecond))} req/s, p99 ${span(project.map((r) => r.p99Ms))} ms ` +
        `| raw: ${span(raw.map((r) => r.requestsPerSecond))} req/s, p99 ${span(raw.map((r) => r.p99Ms))} ms | ${ratio(comparison.throughputRatio)} ` +
        `| >= ${API_TARGETS[comparison.endpoint] ?? '-'} |`,
    );
  }

  const pipeline = results.pipeline as PipelineComparison | undefined;
  if (pipeline) {
    lines.push(
      `| orders fully settled/s (API + worker, ${String(settings.pipelineSeconds)} s of orders) | ${runs(pipeline, 'a')} | ${pipeline.b}: ${runs(pipeline, 'b')} ` +
        `| ${ratio(pipeline.ratio)} | >= 4 |`,
    );
  }
  const freshness = results.freshness as FreshnessComparison | undefined;
  if (freshness) {
    const project = freshness.pairs.map((pair) => pair.project);
    const raw = freshness.pairs.map((pair) => pair.raw);
    lines.push(
      `| accepted -> visible at ${freshness.rate}/s open loop | p50 ${span(project.map((r) => r.p50Ms))} ms, p99 ${span(project.map((r) => r.p99Ms))} ms ` +
        `| raw BullMQ add -> processed: p50 ${span(raw.map((r) => r.p50Ms))} ms, p99 ${span(raw.map((r) => r.p99Ms))} ms ` +
        `| p99 ${ratio(freshness.p99Ratio)} | <= 3 |`,
    );
  }
  const scaleout = results.scaleout as PipelineComparison | undefined;
  if (scaleout) {
    lines.push(
      `| scale-out: ${scaleout.a} vs ${scaleout.b}, settled/s | ${runs(scaleout, 'a')} | ${runs(scaleout, 'b')} | ${ratio(scaleout.ratio)} | >= 1, no duplicates |`,
    );
  }
  const drain = results.drain as DrainComparison | undefined;
  if (drain) {
    const drained = (side: 'a' | 'b') => {
      const all = drain.pairs.map((pair) => pair[side]);
      return `${span(all.map((run) => run.ordersPerSecond))} orders/s (${span(all.map((run) => run.orders))} orders, ${span(all.map((run) => run.drainMs))} ms)`;
    };
    lines.push(
      `| scale-out on a backlog: ${drain.a} vs ${drain.b}, a paused projections queue drained | ${drained('a')} | ${drained('b')} | ${ratio(drain.ratio)} | >= 1, no duplicates |`,
    );
  }

  lines.push(...cpuTable(api?.comparisons ?? [], freshness));
  lines.push(...stageTable(freshness));

  const memory = processFigures([pipeline, scaleout, drain]);
  if (memory.length) {
    lines.push(
      '',
      "| process | peak RSS under load (MB) | CPU ms per settled order (a drain run's: per drained order, during the drain) | cold start to ready (ms) |",
      '|---|---|---|---|',
    );
    for (const [name, figures] of memory) {
      lines.push(`| ${name} | ${span(figures.rss)} | ${span(figures.cpu, 2)} | ${span(figures.cold)} |`);
    }
  }
  lines.push(...workTable([pipeline, scaleout]));
  const problems = results.problems as string[];
  if (problems.length) lines.push('', '**Invalid run:**', '', ...problems.map((problem) => `- ${problem}`));
  return `${lines.join('\n')}\n`;
}

function runs(comparison: PipelineComparison, side: 'a' | 'b'): string {
  const all = comparison.pairs.map((pair) => pair[side]);
  return `${span(
    all.map((run) => run.ordersPerSecond),
    1,
  )} /s (${span(all.map((run) => run.orders))} orders)`;
}

/**
 * CPU time (utime + stime from /proc/<pid>/stat) per unit of work: per request for the API
 * alone and its raw twin, per visible order in the freshness runs. Unlike req/s it hardly moves
 * with the machine's load, so it is the figure to compare between runs on a shared machine.
 */
function cpuTable(comparisons: ApiComparison[], freshness: FreshnessComparison | undefined): string[] {
  if (!comparisons.length && !freshness) return [];
  const lines = [
    '',
    '| CPU ms per unit of work (utime+stime / count) | project | baseline | ratio: median of pairs (range) |',
    '|---|---|---|---|',
  ];
  for (const comparison of comparisons) {
    const project = comparison.pairs.map((pair) => pair.project.cpuMsPerRequest);
    const raw = comparison.pairs.map((pair) => pair.raw.cpuMsPerRequest);
    lines.push(
      `| \`${comparison.endpoint}\`, per request | API ${span(project, 2)} ms | raw API ${span(raw, 2)} ms | ${ratio(comparison.cpuRatio)} |`,
    );
  }
  if (freshness) {
    const perProcess = (runs: CpuPerUnit[][]) => {
      const byName = new Map<string, number[]>();
      for (const run of runs) for (const proc of run) byName.set(proc.name, [...(byName.get(proc.name) ?? []), proc.perUnitMs]);
      return [...byName.entries()].map(([name, values]) => `${name} ${span(values, 2)} ms`).join(', ');
    };
    lines.push(
      `| accepted -> visible at ${freshness.rate}/s, per order | ${perProcess(freshness.pairs.map((pair) => pair.project.cpu))} ` +
        `| ${perProcess(freshness.pairs.map((pair) => pair.raw.cpu))} (per job) | |`,
    );
  }
  return lines;
}

/** Where the service's freshness went, stage by stage, per pair (lib/stages.ts). */
function stageTable(freshness: FreshnessComparison | undefined): string[] {
  const runs = (freshness?.pairs ?? []).map((pair) => pair.project.stages).filter((stages) => stages !== undefined);
  if (!runs.length) return [];
  const lines = ['', '| one order, stage by stage (ms; per pair) | p50 | p99 | max |', '|---|---|---|---|'];
  for (const stage of Object.keys(runs[0]!.stages)) {
    const figures = runs.map((run) => run.stages[stage]!);
    lines.push(
      `| ${stage} | ${figures.map((f) => f.p50).join(', ')} | ${figures.map((f) => f.p99).join(', ')} | ${figures.map((f) => f.max).join(', ')} |`,
    );
  }
  return lines;
}

/**
 * What a settled order cost each pipeline variant in all: its processes' CPU summed, its
 * database's backends' CPU, and Redis commands. On a shared 2-core machine the settled rate follows
 * the total CPU per order, so this is where two layouts differ when their rates do.
 */
function workTable(comparisons: Array<PipelineComparison | undefined>): string[] {
  const byLabel = new Map<string, PipelineRun[]>();
  for (const comparison of comparisons)
    for (const pair of comparison?.pairs ?? [])
      for (const run of [pair.a, pair.b]) byLabel.set(run.label, [...(byLabel.get(run.label) ?? []), run]);
  if (!byLabel.size) return [];
  const lines = [
    '',
    '| pipeline variant | service processes, CPU ms per settled order (sum) | PostgreSQL backends, CPU ms per order | Redis commands per order |',
    '|---|---|---|---|',
  ];
  for (const [label, runs] of byLabel) {
    const service = runs.map((run) => Math.round(run.cpu.reduce((sum, used) => sum + used.perUnitMs, 0) * 100) / 100);
    // Runs recorded before these counts existed have no `work`.
    const work = runs.flatMap((run) => (run.work ? [run.work] : []));
    lines.push(
      `| ${label} | ${span(service, 2)} | ${span(
        work.map((w) => w.postgresCpuMsPerUnit),
        2,
      )} | ${span(
        work.map((w) => w.redisCommandsPerUnit),
        1,
      )} |`,
    );
  }
  return lines;
}

function processFigures(comparisons: Array<PipelineComparison | DrainComparison | undefined>) {
  const figures = new Map<string, { rss: number[]; cold: number[]; cpu: number[] }>();
  const runsOf = (comparison: PipelineComparison | DrainComparison): Array<PipelineRun | DrainRun> =>
    comparison.pairs.flatMap((pair) => [pair.a, pair.b]);
  for (const comparison of comparisons) {
    if (!comparison) continue;
    for (const run of runsOf(comparison)) {
      for (const proc of run.processes) {
        const entry = figures.get(proc.name) ?? { rss: [], cold: [], cpu: [] };
        entry.rss.push(proc.peakRssMb);
        entry.cold.push(proc.coldStartMs);
        const cpu = run.cpu.find((used) => used.name === proc.name);
        if (cpu) entry.cpu.push(cpu.perUnitMs);
        figures.set(proc.name, entry);
      }
    }
  }
  return [...figures.entries()];
}
