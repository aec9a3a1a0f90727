/**
 * `npm run doctor [-- --json]` (in a container: `node dist/src/ops/doctor.js`): can this machine
 * run the service? One line per check, with what to do about each one that is not ok.
 * Exits 0 only when nothing failed.
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../platform/config.js';
import { runDoctor, type CheckResult, type DoctorReport } from './doctor-checks.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const report = await runDoctor(loadConfigOrExit());
process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
process.exitCode = report.ok ? 0 : 1;

function render(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const lines = report.checks.map((check) => line(check, width));
  const verdict = report.ok
    ? 'The service can run: `npm run dev` (API and workers) or `npm run quickstart`.'
    : 'The service cannot run yet: fix the FAIL lines above, then run `npm run doctor` again.';
  return `${lines.join('\n')}\n${verdict}\n`;
}

function line(check: CheckResult, width: number): string {
  const fix = check.fix ? ` -> ${check.fix}` : '';
  return `${check.status.toUpperCase().padEnd(4)}  ${check.name.padEnd(width)}  ${check.detail}${fix}`;
}
