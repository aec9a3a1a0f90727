import type { Queue } from 'bullmq';
import type { Handler } from 'express';
import { loadedOnFirstUse } from '../loaded-on-first-use.js';
import type { Services } from '../../composition-root.js';
import { QUEUE_NAMES } from '../../workers/queues.js';
import { redactJobData } from './job-data-redaction.js';
import { BOARD_PATH, SIGN_OUT_PATH } from './paths.js';

/**
 * The bull-board over every queue and dead-letter queue, with retry, remove and promote buttons
 * (board-access.ts lets only those actions through). Only platform operators reach it; even they
 * see job data redacted to the event envelope (no business data).
 */
export function createQueueBoard(services: Pick<Services, 'queueSet'>): Handler {
  // bull-board and its UI, and the queues themselves, load with the first signed-in request, not with every API process.
  return loadedOnFirstUse(() => boardOf(services));
}

async function boardOf(services: Pick<Services, 'queueSet'>): Promise<Handler> {
  const [{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }, { queues, deadLetterQueues }] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/express'),
    services.queueSet(),
  ]);
  const boards = QUEUE_NAMES.flatMap((name) => [
    { queue: queues.get(name)!, description: '' },
    {
      queue: deadLetterQueues.get(name)! as Queue,
      description: `Dead letters of ${name}; redrive with npm run ops -- redrive ${name}`,
    },
  ]);
  const serverAdapter = new ExpressAdapter().setBasePath(BOARD_PATH);
  createBullBoard({
    queues: boards.map(({ queue, description }) => {
      const adapter = new BullMQAdapter(queue, { readOnlyMode: false, allowRetries: true, description });
      adapter.setFormatter('data', redactJobData);
      return adapter;
    }),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'Queues',
        miscLinks: [{ text: 'Sign out', url: SIGN_OUT_PATH }],
        hideDocsLink: true,
      },
    },
  });
  return serverAdapter.getRouter() as Handler;
}
