import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Handler } from 'express';
import type { Services } from '../../composition-root.js';
import { QUEUE_NAMES } from '../../workers/queues.js';
import { redactJobData } from './job-data-redaction.js';
import { BOARD_PATH, SIGN_OUT_PATH } from './paths.js';

export interface QueueBoards {
  /** Retry, remove and promote buttons, and the API routes behind them. */
  operate: Handler;
  /** bull-board's read-only mode: no action buttons, and its API refuses every change. */
  readOnly: Handler;
}

/**
 * Two bull-board instances over the same queues, because bull-board decides read-only per
 * queue adapter, not per request. Both live at the same path; the caller's abilities pick one.
 */
export function createQueueBoards(services: Pick<Services, 'queues' | 'deadLetterQueues'>): QueueBoards {
  const queues = QUEUE_NAMES.flatMap((name) => [
    { queue: services.queues.get(name)!, description: '' },
    {
      queue: services.deadLetterQueues.get(name)! as Queue,
      description: `Dead letters of ${name}; redrive with npm run ops -- redrive ${name}`,
    },
  ]);
  const board = (readOnlyMode: boolean): Handler => {
    const serverAdapter = new ExpressAdapter().setBasePath(BOARD_PATH);
    createBullBoard({
      queues: queues.map(({ queue, description }) => {
        const adapter = new BullMQAdapter(queue, { readOnlyMode, allowRetries: !readOnlyMode, description });
        adapter.setFormatter('data', redactJobData);
        return adapter;
      }),
      serverAdapter,
      options: {
        uiConfig: {
          boardTitle: readOnlyMode ? 'Queues (read-only)' : 'Queues',
          miscLinks: [{ text: 'Sign out', url: SIGN_OUT_PATH }],
          hideDocsLink: true,
        },
      },
    });
    return serverAdapter.getRouter() as Handler;
  };
  return { operate: board(false), readOnly: board(true) };
}
