import { expect } from 'chai';
import { REDACTED, redactJobData } from '../../src/api/operator-dashboard/job-data-redaction.js';

describe('What the queue dashboard shows of job data', () => {
  const event = {
    id: 'e1',
    type: 'OrderPlaced',
    tenantId: 'acme',
    aggregateId: 'o1',
    aggregateVersion: 3,
    commandId: null,
    traceContext: { traceparent: '00-abc-def-01' },
    payload: { customer: { email: 'ada@example.com' } },
  };

  it('When a job carries an event, then the envelope is shown and the payload is redacted', () => {
    expect(redactJobData(event)).to.deep.equal({ ...event, payload: REDACTED });
  });

  it('When a dead letter wraps an event, then its bookkeeping is shown and the wrapped payload is redacted', () => {
    const deadLetter = { queue: 'payments', jobId: 'e1', failedReason: 'declined', attemptsMade: 5, data: event };
    expect(redactJobData(deadLetter)).to.deep.equal({ ...deadLetter, data: { ...event, payload: REDACTED } });
  });

  it('When data is not an envelope (unknown fields, nested values, arrays, a bare string), then none of it is shown', () => {
    expect(redactJobData({ email: 'ada@example.com', id: { nested: 'x' } })).to.deep.equal({ email: REDACTED, id: REDACTED });
    expect(redactJobData(['ada@example.com'])).to.equal(REDACTED);
    expect(redactJobData('ada@example.com')).to.equal(REDACTED);
    expect(redactJobData({ tenantId: ['acme'] })).to.deep.equal({ tenantId: REDACTED });
  });
});
