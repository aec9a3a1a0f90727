import { expect } from 'chai';
import { deadLetterQueueOf } from '../../src/workers/queues.js';
import { createProduct, principal, rows } from '../support/fixtures.js';
import { eventually } from '../support/http.js';
import { startTestService, type TestService } from '../support/test-service.js';

describe('Dead letters (real workers)', () => {
  let service: TestService;
  beforeEach(async () => {
    service = await startTestService({ api: false, roles: ['relay', 'projections'], env: { PROJECTION_ATTEMPTS: '2' } });
  });
  afterEach(() => service.stop());

  it('When a job carries a payload that can never be processed, then it goes to the dead-letter queue after one attempt', async () => {
    const projections = service.services.queues.get('projections')!;
    await projections.add('Garbage', { hello: 'world' }, { jobId: 'garbage-1' });

    const deadLetters = service.services.deadLetterQueues.get('projections')!;
    const [dead] = await eventually(
      async () => {
        const jobs = await deadLetters.getJobs(['waiting']);
        return jobs.length ? jobs : undefined;
      },
      5_000,
      'the dead letter',
    );

    expect(deadLetters.name).to.equal(deadLetterQueueOf('projections'));
    expect(dead!.data).to.include({ queue: 'projections', jobId: 'garbage-1', name: 'Garbage', attemptsMade: 1 });
    expect(dead!.data.failedReason).to.match(/not a known event envelope/);
    expect(dead!.data.data).to.deep.equal({ hello: 'world' });
    expect((await projections.getJob('garbage-1'))!.attemptsMade).to.equal(1);
  });

  it('When a projection keeps failing, then after its attempts the job is dead-lettered and its command reads failed', async () => {
    // order_view refuses every row: the projection of OrderPlaced can never succeed.
    await rows(service.services, 'alter table order_view add constraint refuse_all check (total_cents < 0)');
    const productId = await createProduct(service.services, 'acme');
    const accepted = await service.services.commands.placeOrder.handle(principal('ada', 'acme', ['customer']), {
      lines: [{ productId, quantity: 1 }],
    });

    const status = await eventually(
      async () => {
        const command = await service.services.queries.getCommandStatus.handle(
          principal('ada', 'acme', ['customer']),
          accepted.commandId,
        );
        return command.status === 'failed' ? command : undefined;
      },
      10_000,
      'the command to be marked failed',
    );

    expect(status.error).to.include({ type: '/problems/command.processing-failed' });
    const deadLetters = await service.services.deadLetterQueues.get('projections')!.getJobs(['waiting']);
    expect(deadLetters.map((job) => job.data.name)).to.include('OrderPlaced');
    expect(deadLetters.find((job) => job.data.name === 'OrderPlaced')!.data.attemptsMade).to.equal(2);
  });
});
