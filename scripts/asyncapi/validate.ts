/**
 * `npm run asyncapi:check` (part of `npm run openapi:check`, so of CI): validates the generated
 * AsyncAPI document with @asyncapi/parser. Any error or warning fails; hints are printed only.
 */
import { readFileSync } from 'node:fs';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';

const PATH = 'src/api/generated/asyncapi.json';

const diagnostics = await new Parser().validate(readFileSync(PATH, 'utf8'), { source: PATH });
const failing = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning);
for (const d of diagnostics) {
  const level = DiagnosticSeverity[d.severity] ?? String(d.severity);
  console.log(`${level.toLowerCase()} ${d.code} at ${d.path.join('.') || '(root)'}: ${d.message}`);
}
if (failing.length) {
  console.error(`${PATH}: ${failing.length} problem(s)`);
  process.exit(1);
}
console.log(`${PATH}: valid AsyncAPI ${JSON.parse(readFileSync(PATH, 'utf8')).asyncapi as string}`);
