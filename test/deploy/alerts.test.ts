import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { readYaml, repoPath } from './support/repo.js';

/**
 * ops/prometheus/alerts.yaml is checked and unit-tested by promtool (Debian's `prometheus`
 * package): `check_alert_rules` in .ci/run, which installs promtool when missing. These
 * tests make sure that every alert has a firing and a silent case, and that the unit tests can
 * fail. A missing promtool fails loudly, like a missing kubectl: the rules are never skipped.
 */
const RULES = 'ops/prometheus/alerts.yaml';
const TESTS = 'ops/prometheus/alerts.test.yaml';

interface AlertCase {
  alertname: string;
  exp_alerts?: unknown[];
}
interface TestGroup {
  name: string;
  alert_rule_test?: AlertCase[];
}
interface RuleFile {
  groups: { name: string; rules: { alert?: string; expr: string }[] }[];
}

function promtool(...args: string[]) {
  const binary = process.env.PROMTOOL ?? 'promtool';
  const result = spawnSync(binary, args, { encoding: 'utf8', cwd: repoPath() });
  if (result.error) {
    throw new Error(
      `${binary} not found: the alert rules cannot be checked. Install Debian's prometheus package (apt-get install prometheus) or set PROMTOOL.`,
    );
  }
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/** Alerts that lack a firing case or a silent case in the unit tests. */
export function untestedAlerts(rules: RuleFile, tests: { tests: TestGroup[] }): string[] {
  const cases = tests.tests.flatMap((group) => group.alert_rule_test ?? []);
  return rules.groups
    .flatMap((group) => group.rules.map((rule) => rule.alert))
    .filter((alert): alert is string => alert !== undefined)
    .flatMap((alert) => {
      const mine = cases.filter((c) => c.alertname === alert);
      return [
        ...(mine.some((c) => (c.exp_alerts ?? []).length > 0) ? [] : [`${alert}: no case where it fires`]),
        ...(mine.some((c) => (c.exp_alerts ?? []).length === 0) ? [] : [`${alert}: no case where it stays silent`]),
      ];
    });
}

describe('Alert rules (promtool)', function () {
  this.timeout(60_000);

  it('When the unit tests are read, then every alert has a case where it fires and one where it stays silent', () => {
    const problems = untestedAlerts(readYaml(RULES) as RuleFile, readYaml(TESTS) as { tests: TestGroup[] });

    expect(problems).to.deep.equal([]);
  });

  it('When an alert has no silent case, then the coverage check names it', () => {
    const tests = readYaml(TESTS) as { tests: TestGroup[] };
    for (const group of tests.tests) {
      group.alert_rule_test = (group.alert_rule_test ?? []).filter(
        (c) => !(c.alertname === 'CqrsOutboxStalled' && (c.exp_alerts ?? []).length === 0),
      );
    }

    expect(untestedAlerts(readYaml(RULES) as RuleFile, tests)).to.deep.equal([
      'CqrsOutboxStalled: no case where it stays silent',
    ]);
  });

  it('When an alert threshold is loosened, then its unit tests fail', () => {
    // Arrange: the rules with CqrsOutboxStalled waiting 10 minutes instead of 1 before it counts.
    const rules = readYaml(RULES) as RuleFile;
    const stalled = rules.groups.flatMap((group) => group.rules).find((rule) => rule.alert === 'CqrsOutboxStalled')!;
    stalled.expr = stalled.expr.replace('> 60', '> 600');
    const directory = mkdtempSync(path.join(tmpdir(), 'alerts-'));
    const tests = readYaml(TESTS) as { tests: TestGroup[]; rule_files: string[] };
    tests.tests = tests.tests.filter((group) => (group.alert_rule_test ?? []).some((c) => c.alertname === 'CqrsOutboxStalled'));
    tests.rule_files = ['alerts.yaml'];
    writeFileSync(path.join(directory, 'alerts.yaml'), YAML.stringify(rules));
    writeFileSync(path.join(directory, 'alerts.test.yaml'), YAML.stringify(tests));

    try {
      // Act
      const result = promtool('test', 'rules', path.join(directory, 'alerts.test.yaml'));

      // Assert
      expect(result.ok).to.equal(false);
      expect(result.output).to.match(/alertname: CqrsOutboxStalled/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
