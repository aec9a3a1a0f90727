import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Metrics } from '../../src/platform/metrics.js';
import { observeQueues, observeSystem, SYSTEM_GAUGES } from '../../src/workers/observed-state.js';

/**
 * The dashboard (ops/grafana) and the alert rules (ops/prometheus) may only name metrics the
 * service registers. The names come from the service's own registry (src/platform/metrics.ts and
 * the scrape-time gauges of src/workers/observed-state.ts), not from a copy: rename a metric and
 * this test names every panel and rule left behind.
 */
function exportedMetricNames(): string[] {
  const metrics = new Metrics({ service: 'test', process: 'test' });
  // Registers the scrape-time gauges; nothing is collected until a scrape.
  observeSystem(metrics, { orm: undefined as never, redis: undefined as never });
  observeQueues(
    metrics,
    { queues: new Map(), deadLetterQueues: new Map(), queueConnections: undefined as never },
    undefined as never,
  );
  return metrics.registry
    .getMetricsAsArray()
    .flatMap((metric) =>
      String(metric.type) === 'histogram'
        ? [`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`]
        : [metric.name],
    );
}
/** From kube-state-metrics, the kubelet and CloudNativePG's exporter, not from the service. */
const EXTERNAL = [
  'kube_pod_container_status_restarts_total',
  'kubelet_volume_stats_available_bytes',
  'kubelet_volume_stats_capacity_bytes',
  'cnpg_pg_replication_lag',
  'cnpg_pg_stat_archiver_failed_count',
];
const KNOWN_METRICS = new Set([...exportedMetricNames(), ...EXTERNAL]);

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'group_left', 'group_right', 'inf', 'nan']);

/** Metric names in a PromQL expression: identifiers outside strings, matchers, ranges and groupings, not called. */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...bare.matchAll(/(?<![\w$.])[a-zA-Z_:][\w:]*(?![\w:]*\s*\()/g)].map((match) => match[0]);
  return [...new Set(names.filter((name) => !PROMQL_KEYWORDS.has(name.toLowerCase())))];
}

interface AlertRule {
  alert?: string;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

const rules = (): AlertRule[] => {
  const document = parse(readFileSync('ops/prometheus/alerts.yaml', 'utf8')) as {
    groups: { name: string; rules: AlertRule[] }[];
  };
  return document.groups.flatMap((group) => group.rules);
};

interface Panel {
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: { expr: string }[];
}
const dashboard = () =>
  JSON.parse(readFileSync('ops/grafana/cqrs-service.json', 'utf8')) as { uid: string; title: string; panels: Panel[] };

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((heading) =>
      heading[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    ),
  );
}

function alertProblems(rule: AlertRule, anchors: Set<string>): string[] {
  const name = rule.alert ?? '(unnamed)';
  const problems: string[] = [];
  if (!rule.alert) problems.push('a rule without an alert name (recording rules belong elsewhere)');
  if (typeof rule.expr !== 'string' || !rule.expr.trim()) problems.push(`${name}: no expr`);
  if (typeof rule.for !== 'string' || !/^\d+(ms|s|m|h|d|w|y)$/.test(rule.for)) problems.push(`${name}: no for: duration`);
  if (!['critical', 'warning', 'info'].includes(String(rule.labels?.severity))) problems.push(`${name}: no severity label`);
  for (const key of ['summary', 'description', 'runbook_url']) {
    if (typeof rule.annotations?.[key] !== 'string' || !rule.annotations[key]) problems.push(`${name}: no ${key}`);
  }
  const anchor = /\/docs\/operations\.md#([\w-]+)$/.exec(String(rule.annotations?.runbook_url ?? ''))?.[1];
  if (rule.annotations?.runbook_url && !(anchor && anchors.has(anchor))) {
    problems.push(`${name}: runbook_url has no matching section in docs/operations.md`);
  }
  return problems;
}

describe('Dashboards and alerts as files (ops/)', () => {
  it('When the alert rules are read, then every alert has summary, description, a runbook section, a for: duration and a severity', () => {
    const anchors = anchorsOf(readFileSync('docs/operations.md', 'utf8'));
    const all = rules();

    expect(all.length).to.be.greaterThan(0);
    expect(all.flatMap((rule) => alertProblems(rule, anchors))).to.deep.equal([]);
    expect(new Set(all.map((rule) => rule.alert)).size, 'alert names are unique').to.equal(all.length);
  });

  it('When an alert lacks what an on-call engineer needs, then the check names each gap', () => {
    const problems = alertProblems(
      {
        alert: 'Vague',
        expr: 'up == 0',
        labels: {},
        annotations: { summary: 'x', runbook_url: 'https://x/docs/operations.md#nowhere' },
      },
      new Set(['somewhere']),
    );

    expect(problems).to.have.members([
      'Vague: no for: duration',
      'Vague: no severity label',
      'Vague: no description',
      'Vague: runbook_url has no matching section in docs/operations.md',
    ]);
  });

  it('When the dashboard and the rules are read, then every metric they use is one the service (or kube-state-metrics) exports', () => {
    const expressions = [
      ...dashboard().panels.flatMap((panel) => (panel.targets ?? []).map((target) => [panel.title, target.expr] as const)),
      ...rules().map((rule) => [rule.alert!, String(rule.expr)] as const),
    ];

    const unknown = expressions.flatMap(([where, expr]) =>
      metricNamesIn(expr)
        .filter((name) => !KNOWN_METRICS.has(name))
        .map((name) => `${where}: ${name}`),
    );

    expect(expressions.length).to.be.greaterThan(20);
    expect(unknown).to.deep.equal([]);
  });

  it('When an expression uses a renamed metric, then it is reported (and functions, labels, strings and ranges are not)', () => {
    const expr =
      'sum by (queue) (rate(cqrs_jobs_finished_total{queue=~"a|b", state="waiting"}[5m])) / on (queue) group_left ' +
      'max(cqrs_queue_depth{service="$service"} offset 5m) > bool 0 and histogram_quantile(0.9, cqrs_job_duration_seconds_bucket)';

    expect(metricNamesIn(expr)).to.have.members([
      'cqrs_jobs_finished_total',
      'cqrs_queue_depth',
      'cqrs_job_duration_seconds_bucket',
    ]);
  });

  it('When the alerts are read, then each signal of the runbook has one: API errors and latency, backlog and age, dead letters, outbox, projections, restarts', async () => {
    const used = new Set(rules().flatMap((rule) => metricNamesIn(String(rule.expr))));
    const metrics = new Metrics({ service: 'test', process: 'test' });
    const nameOf = async (metric: { get(): Promise<{ name: string }> }) => (await metric.get()).name;

    expect([...used]).to.include.members([
      await nameOf(metrics.httpRequests),
      `${await nameOf(metrics.httpDuration)}_bucket`,
      SYSTEM_GAUGES.queueBacklog,
      SYSTEM_GAUGES.queueOldestWaiting,
      await nameOf(metrics.jobsDeadLettered),
      SYSTEM_GAUGES.queueJobs,
      SYSTEM_GAUGES.outboxOldestUnpublished,
      await nameOf(metrics.projectionLag),
      'kube_pod_container_status_restarts_total',
    ]);
  });

  it('When the dashboard is imported, then it has a stable uid and every panel queries the selected Prometheus data source', () => {
    const { uid, panels } = dashboard();
    const queryPanels = panels.filter((panel) => panel.type !== 'row');

    expect(uid).to.equal('cqrs-service');
    expect(queryPanels.filter((panel) => panel.datasource?.uid !== '${datasource}' || !panel.targets?.length)).to.deep.equal([]);
  });
});
