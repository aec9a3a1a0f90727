import { expect } from 'chai';
import { PROCESSES, type ProcessDependencies } from '../../src/workers/processes.js';
import { QUEUE_NAMES } from '../../src/workers/queues.js';

/** Stand-ins for every dependency; a process only builds its handler from them, it runs nothing here. */
function allDependencies(): ProcessDependencies {
  const queues = new Map(QUEUE_NAMES.map((name) => [name, { name }]));
  return {
    config: { WEBHOOK_ALLOWED_HOSTS: [], WEBHOOK_TIMEOUT: 1000, SERVICE_NAME: 'test' },
    orm: {},
    clock: { now: () => new Date() },
    metrics: {},
    commands: { recordPayment: {}, expireOrder: {} },
    commandFailures: {},
    projector: {},
    paymentGateway: {},
    queues,
    secrets: {},
  } as unknown as ProcessDependencies;
}

describe('Processes take only what they name (src/workers/processes.ts)', () => {
  for (const queue of QUEUE_NAMES) {
    it(`When the ${queue} process is built without a dependency it names, then it refuses to start, naming it`, () => {
      const missing = PROCESSES[queue].needs.at(-1)!;
      const deps = { ...allDependencies(), [missing]: undefined } as unknown as ProcessDependencies;

      expect(() => PROCESSES[queue](deps)).to.throw(`the ${queue} process needs ${missing}`);
    });
  }
});
