import { expect } from 'chai';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { inSequence } from '../../src/api/in-sequence.js';

/** Runs `handler` as Express would and says how it left: `next()`, `next(value)`, or not at all. */
function run(handler: RequestHandler): Promise<{ nextWith: unknown; trail: string[] }> {
  return new Promise((resolve) => {
    const request = { trail: [] as string[] } as unknown as Request & { trail: string[] };
    void handler(
      request,
      {} as Response,
      ((value?: unknown) => resolve({ nextWith: value, trail: request.trail })) as NextFunction,
    );
  });
}

const step =
  (name: string, outcome?: unknown): RequestHandler =>
  (request, _response, next) => {
    (request as Request & { trail: string[] }).trail.push(name);
    next(outcome);
  };
const recover =
  (name: string): ErrorRequestHandler =>
  (_error: unknown, request, _response, next) => {
    (request as Request & { trail: string[] }).trail.push(name);
    next();
  };

describe('Middlewares in sequence (one Express layer)', () => {
  it('When every middleware passes, then each runs once in order and the sequence passes on', async () => {
    expect(await run(inSequence([step('a'), recover('skipped'), step('b')]))).to.deep.equal({
      nextWith: undefined,
      trail: ['a', 'b'],
    });
  });

  it('When one fails, then the following ones are skipped up to the next error handler, which may recover', async () => {
    const failure = new Error('no');
    expect(await run(inSequence([step('a', failure), step('skipped'), recover('handled'), step('b')]))).to.deep.equal({
      nextWith: undefined,
      trail: ['a', 'handled', 'b'],
    });
    expect(await run(inSequence([step('a', failure), step('skipped')]))).to.deep.equal({ nextWith: failure, trail: ['a'] });
  });

  it('When one throws or returns a rejected promise, then that is the error', async () => {
    const thrown = new Error('thrown');
    const throwing: RequestHandler = () => {
      throw thrown;
    };
    const rejecting: RequestHandler = () => Promise.reject(thrown) as unknown as void;
    expect((await run(inSequence([throwing, step('skipped')]))).nextWith).to.equal(thrown);
    expect((await run(inSequence([rejecting, step('skipped')]))).nextWith).to.equal(thrown);
  });

  it("When one calls next('route'), then the sequence is left at once", async () => {
    expect(await run(inSequence([step('a', 'route'), step('skipped')]))).to.deep.equal({ nextWith: 'route', trail: ['a'] });
  });
});
