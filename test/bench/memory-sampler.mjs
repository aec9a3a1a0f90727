/**
 * Loaded into each service process to see what its RSS is made of while a benchmark runs: every
 * 250 ms one `MEMORY {...}` line on stderr (the process's log) with RSS split into anonymous and
 * file-backed pages (/proc/self/status), the V8 heap's committed and used size, V8's own malloc'd
 * memory now and at its peak (compiler zones and other native V8 data, outside the heap), and the
 * external memory V8 accounts for (array buffers, WebAssembly memories: reserved, not all resident).
 *
 *   BENCH_NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=8 --import=$PWD/test/bench/memory-sampler.mjs" \
 *     BENCH_SCENARIOS=scaleout BENCH_BASELINE=skip npx tsx test/bench/run.ts
 *   grep -h MEMORY bench-results/logs-<time>/*api.log
 *
 * Plain JavaScript: the compiled service loads it without tsx.
 */
import { readFileSync } from 'node:fs';
import { setInterval } from 'node:timers';
import v8 from 'node:v8';

const mb = (bytes) => Math.round(bytes / 1048576);
const statusMb = (status, field) => Math.round(Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024);

setInterval(() => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const heap = v8.getHeapStatistics();
  const sample = {
    rss: statusMb(status, 'VmRSS'),
    anonymous: statusMb(status, 'RssAnon'),
    file: statusMb(status, 'RssFile'),
    heapCommitted: mb(heap.total_heap_size),
    heapUsed: mb(heap.used_heap_size),
    v8Malloced: mb(heap.malloced_memory),
    v8MallocedPeak: mb(heap.peak_malloced_memory),
    external: mb(process.memoryUsage().external),
  };
  console.error(`MEMORY ${JSON.stringify(sample)}`);
}, 250).unref();
