/**
 * Summarizes what `BENCH_PROFILE=1 npm run bench` wrote: for each CPU profile, self time by
 * package (node_modules/<package>, node internals, the service's own code, GC) and the hottest
 * functions; for each heap snapshot, retained-by-type totals (self sizes by constructor).
 * `tsx test/bench/profile-summary.ts bench-results/logs-<time>/profiles [top]`
 * (open the .cpuprofile files in Chrome DevTools or speedscope for flame graphs).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const dir = process.argv[2] ?? '.';
const top = Number(process.argv[3] ?? 15);

function owner(url: string): string {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.includes('/dist/src/') || url.includes('/src/')) return 'service code';
  return url;
}

function table(title: string, totals: Map<string, number>, all: number): void {
  console.log(`  ${title}`);
  for (const [name, value] of [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`    ${((100 * value) / all).toFixed(1).padStart(5)}%  ${name}`);
  }
}

function summarizeCpu(file: string): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const packages = new Map<string, number>();
  const functions = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const micros = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === '(idle)') return;
    all += micros;
    const pkg = frame.functionName.startsWith('(') ? frame.functionName : owner(frame.url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
    const fn = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + micros);
  });
  console.log(`\n${file}: ${(all / 1e6).toFixed(1)} s of CPU (idle excluded)`);
  table('self time by package', packages, all);
  table('hottest functions (self time)', functions, all);
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

function summarizeHeap(file: string): void {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  const types = heap.snapshot.meta.node_types[0];
  const bySize = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < heap.nodes.length; i += width) {
    const type = types[heap.nodes[i + typeAt!]!]!;
    const name = type === 'object' || type === 'closure' ? heap.strings[heap.nodes[i + nameAt!]!]! : `(${type})`;
    const size = heap.nodes[i + sizeAt!]!;
    all += size;
    bySize.set(name, (bySize.get(name) ?? 0) + size);
  }
  console.log(`\n${file}: ${(all / 1024 / 1024).toFixed(1)} MB of JS heap`);
  table('self size by type/constructor', bySize, all);
}

for (const name of readdirSync(dir).sort()) {
  if (name.endsWith('.cpuprofile')) summarizeCpu(join(dir, name));
  if (name.endsWith('.heapsnapshot')) summarizeHeap(join(dir, name));
}
