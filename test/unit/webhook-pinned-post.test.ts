import { expect } from 'chai';
import { postPinned } from '../../src/platform/net/pinned-post.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

describe('Webhook transport: POST to a pinned address', () => {
  let receiver: WebhookReceiver;
  afterEach(() => receiver.close());

  it('When the URL names a host that does not resolve, then the request still goes to the pinned address with that Host', async () => {
    receiver = await startWebhookReceiver(202, { contract: false });

    const { status } = await postPinned({
      url: new URL(`http://receiver.invalid:${receiver.port}/hooks?x=1`),
      address: { address: '127.0.0.1', family: 4 },
      headers: { 'content-type': 'application/json' },
      body: '{"ok":true}',
      timeoutMs: 2_000,
    });

    expect(status).to.equal(202);
    expect(receiver.received).to.have.length(1);
    expect(receiver.received[0]).to.deep.include({ method: 'POST', path: '/hooks?x=1', body: '{"ok":true}' });
    expect(receiver.received[0]!.headers.host).to.equal(`receiver.invalid:${receiver.port}`);
  });

  it('When the receiver does not answer within the timeout, then the POST fails after about that long', async () => {
    receiver = await startWebhookReceiver('never', { contract: false });
    const started = Date.now();

    const outcome = await postPinned({
      url: new URL(`${receiver.url}/slow`),
      address: { address: '127.0.0.1', family: 4 },
      headers: {},
      body: '{}',
      timeoutMs: 150,
    }).catch((error: Error) => error);

    expect(outcome).to.be.instanceOf(Error);
    expect((outcome as Error).message).to.match(/no response from 127\.0\.0\.1:\d+ within 150 ms/);
    expect(Date.now() - started).to.be.within(140, 1_000);
  });
});
