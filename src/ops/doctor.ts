/**
 * `npm run doctor [-- --json]` (in a container: `node dist/src/ops/doctor.js`): can this machine
 * run the service? One line per check, with what to do about each one that is not ok.
 * Exits 0 only when nothing failed.
 */
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../platform/config.js';
import { renderReport, runDoctor } from './doctor-checks.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const report = await runDoctor(loadConfigOrExit());
process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
process.exitCode = report.ok ? 0 : 1;
