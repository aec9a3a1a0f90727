/**
 * CPU per projected event in this process, with no other load: `n` OrderPlaced events of
 * different customers projected one at a time (lone events), then in batches of 10. Process CPU
 * (user + system) per event is steadier than wall time on a shared machine.
 * `DATABASE_URL=... REDIS_URL=... tsx test/bench/projector-cpu.ts [n]`
 */
import type { DomainEvent } from '../../src/events/index.js';
import { customerOf, placedOrderEvent } from '../support/fixtures.js';
import { startTestService } from '../support/test-service.js';

const n = Number(process.argv[2] ?? 2000);
const now = new Date();

// 50 customers, as the benchmark's load has.
const placed = (i: number): DomainEvent => placedOrderEvent(customerOf(`c${i % 50}`), now);

const service = await startTestService({ api: false });
try {
  const { projector } = service.services;
  for (let i = 0; i < 200; i++) await projector.project(placed(i)); // warm-up
  const events = Array.from({ length: n }, (_, i) => placed(i));
  let cpu = process.cpuUsage();
  let wall = performance.now();
  for (const event of events) await projector.project(event);
  let used = process.cpuUsage(cpu);
  console.log(
    `lone: ${((used.user + used.system) / 1000 / n).toFixed(3)} ms CPU, ${((performance.now() - wall) / n).toFixed(3)} ms wall per event`,
  );
  const more = Array.from({ length: n }, (_, i) => placed(i));
  cpu = process.cpuUsage();
  wall = performance.now();
  for (let i = 0; i < n; i += 10) await projector.projectAll(more.slice(i, i + 10));
  used = process.cpuUsage(cpu);
  console.log(
    `batches of 10: ${((used.user + used.system) / 1000 / n).toFixed(3)} ms CPU, ${((performance.now() - wall) / n).toFixed(3)} ms wall per event`,
  );
} finally {
  await service.stop();
}
