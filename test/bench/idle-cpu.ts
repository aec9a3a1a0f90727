/**
 * CPU time a built API spends per second while it serves nothing (timers, the span exporter, the
 * Redis and PostgreSQL clients' keep-alives), as the bench starts it: the part of a "CPU per
 * settled order" figure that is not the orders' own.
 *
 *   npm run build && tsx test/bench/idle-cpu.ts [dir] [seconds]
 */
import { readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { signingKeys, startOtlpSink } from './lib/environment.js';
import { startService } from './lib/service.js';

const dir = resolve(process.argv[2] ?? process.cwd());
const seconds = Number(process.argv[3] ?? 30);
const clockTicks = 100; // USER_HZ on Linux
const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
};

const keys = signingKeys();
const otlp = await startOtlpSink();
const service = await startService(
  {
    dir,
    label: 'idle',
    serverDatabaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    publicKeyPem: keys.publicKeyPem,
    otlpUrl: otlp.url,
    logDir: tmpdir(),
    nodeOptions: '--max-old-space-size=128 --max-semi-space-size=8',
  },
  [],
);
try {
  await new Promise((done) => setTimeout(done, 5_000)); // past the start-up work
  const before = cpuMs(service.api.pid);
  await new Promise((done) => setTimeout(done, seconds * 1000));
  const perSecond = (cpuMs(service.api.pid) - before) / seconds;
  console.log(`API idle: ${perSecond.toFixed(1)} ms CPU per second over ${seconds} s (load ${loadavg()[0]!.toFixed(1)})`);
} finally {
  await service.stop();
  await otlp.close();
}
