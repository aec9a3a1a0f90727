import type { Names } from './names.js';
import type { SourceEdits } from './source-edits.js';

/**
 * A background process: its queue declared once (routing, job options, dead-letter queue, worker
 * role, metrics and the dashboard derive from it), its handler, its entry in PROCESSES, and an
 * integration test through the real relay and a real worker.
 */
export function newProcess(n: Names, edits: SourceEdits): string[] {
  edits.insertBeforeEnd(
    'src/workers/queues.ts',
    /^export const QUEUES = \{$/,
    /^\} as const satisfies Record<string, QueueDeclaration>;$/,
    `  '${n.kebab}': {
    role: '${n.kebab}',
    // Narrow this to the events the process needs.
    receives: DOMAIN_EVENT_TYPES,
    attempts: fixed(5),
    backoffMs: fixed(250),
  },`,
  );
  edits.create(
    `src/workers/processes/${n.kebab}.worker.ts`,
    `import type { Job } from 'bullmq';
import { eventFromJob } from '../job-envelope.js';

/**
 * ${n.kebab}: one job per event its queue receives (src/workers/queues.ts). A job that is not an
 * event envelope goes straight to the dead-letter queue. Act through a command (a dependency from
 * ProcessDependencies, named in its defineProcess in src/workers/processes.ts), never by writing read models; jobs may be redelivered, so whatever it does
 * must be idempotent.
 */
export function ${n.camel}Handler() {
  return async (job: Job) => {
    const event = eventFromJob(job.data);
    return { handled: event.id };
  };
}
`,
  );
  edits.addImport('src/workers/processes.ts', `import { ${n.camel}Handler } from './processes/${n.kebab}.worker.js';`);
  edits.insertBeforeEnd(
    'src/workers/processes.ts',
    /^export const PROCESSES: Record<QueueName, ProcessFactory> = \{$/,
    /^\};$/,
    `  '${n.kebab}': defineProcess('${n.kebab}', [], () => ({ handler: ${n.camel}Handler() })),`,
  );

  const test = `test/integration/${n.kebab}.process.test.ts`;
  edits.create(
    test,
    `import { expect } from 'chai';
import { QUEUES } from '../../src/workers/queues.js';
import { appendEvent } from '../support/event-log.js';
import { eventually } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';

describe('${n.kebab} process (PostgreSQL, Redis)', function () {
  this.timeout(60_000);
  let service: TestService;
  before(async () => {
    service = await startTestService({ api: false, roles: ['relay', '${n.kebab}'] });
  });
  after(() => service.stop());

  it('When an event its queue receives is committed, then the relay queues it and the process completes the job', async () => {
    const { id } = await appendEvent(service.services, 'acme', QUEUES['${n.kebab}'].receives[0]!);
    const queue = service.services.queues.get('${n.kebab}')!;

    // A snapshot read once the job has finished carries its return value.
    const job = await eventually(
      async () => {
        const queued = await queue.getJob(id);
        return queued?.finishedOn ? queued : undefined;
      },
      20_000,
      'the job to complete',
    );

    expect(job.returnvalue).to.deep.equal({ handled: id });
  });

  it('When a job carries no event, then it is dead-lettered at once, not retried', async () => {
    await service.services.queues.get('${n.kebab}')!.add('Broken', { not: 'an event' }, { jobId: 'broken' });
    const deadLetters = service.services.deadLetterQueues.get('${n.kebab}')!;

    const dead = await eventually(() => deadLetters.getJob('broken'), 20_000, 'the dead letter');

    expect(dead.data.attemptsMade).to.equal(1);
  });
});
`,
  );
  return [test];
}
