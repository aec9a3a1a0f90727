/**
 * Collects one row per scenario and, when the run ends, prints the table and writes it into
 * docs/reliability.md between the markers (the figures there come from a run, never by hand).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { destroyStage, LONG, type Outcome } from './harness.js';

export interface Row extends Outcome {
  scenario: string;
  /** Time from the end of the fault to every accepted command's effects being in place. */
  recovery: string;
  /** Scenario-specific figures (duplicate jobs, jobs in flight, ...). */
  notes: string;
  passed?: boolean;
}

const rows: Row[] = [];

export function report(row: Row): void {
  rows.push(row);
}

const START = '<!-- chaos-results:start -->';
const END = '<!-- chaos-results:end -->';
const DOC = new URL('../../docs/reliability.md', import.meta.url);

function table(): string {
  const header = '| # | Scenario | Sent | Accepted | Lost | Duplicated effects (read models / payments) | Recovery | Notes |';
  const sorted = [...rows].sort((a, b) => a.scenario.localeCompare(b.scenario, 'en', { numeric: true }));
  const lines = sorted.map(
    (row) =>
      `| ${row.scenario.split(' ')[0]} | ${row.scenario.split(' ').slice(1).join(' ')} | ${row.sent} | ${row.accepted} | ${row.lost} | ${row.duplicatedReadModels} / ${row.duplicatedPayments} | ${row.recovery} | ${row.notes} |`,
  );
  return [header, '| --- | --- | --: | --: | --: | --: | --- | --- |', ...lines].join('\n');
}

/** Root hooks for `npm run test:chaos` (`--require test/chaos/report.ts`). */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await destroyStage();
    if (!rows.length) return;
    const produced = [
      START,
      `Produced by \`npm run test:chaos\`${LONG ? ' with `CHAOS_LONG=1`' : ''} on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}.`,
      '',
      table(),
      END,
    ].join('\n');
    console.log(`\n${table()}\n`);
    const doc = await readFile(DOC, 'utf8');
    const start = doc.indexOf(START);
    const end = doc.indexOf(END);
    if (start < 0 || end < 0) throw new Error(`docs/reliability.md lost its ${START} / ${END} markers`);
    // Formatted as `npm run lint` expects, so a run leaves the repository clean.
    const filepath = fileURLToPath(DOC);
    const options = { ...(await resolveConfig(filepath)), filepath };
    const updated = await format(doc.slice(0, start) + produced + doc.slice(end + END.length), options);
    await writeFile(DOC, updated);
  },
};
