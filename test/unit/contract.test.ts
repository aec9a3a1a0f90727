import { expect } from 'chai';
import { contractViolations, type ContractResponse } from '../support/contract.js';

const commandId = '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e5f';
const orderId = '0192f5e4-8a3b-7c2d-9e1f-0a1b2c3d4e60';
const json = { 'content-type': 'application/json; charset=utf-8' };
const problemJson = { 'content-type': 'application/problem+json; charset=utf-8' };
const accepted = (body: object, headers: Record<string, string> = { ...json, location: `/v1/commands/${commandId}` }) =>
  ({
    method: 'POST',
    url: 'http://127.0.0.1:3000/v1/orders',
    status: 202,
    headers,
    body: JSON.stringify(body),
  }) satisfies ContractResponse;
const notFound = { type: '/problems/order.not-found', title: 'Not Found', status: 404, resource: 'Order', id: orderId };

describe('The contract check (test/support/contract.ts) against the generated OpenAPI document', () => {
  it('When a 202 carries the command and aggregate ids and Location, then it matches the contract', () => {
    expect(contractViolations(accepted({ commandId, orderId }))).to.deep.equal([]);
  });

  it('When a 202 body has a field the document does not declare, then that is a violation', () => {
    expect(contractViolations(accepted({ commandId, orderId, extra: 1 })).join()).to.match(/additional properties \("extra"\)/);
  });

  it('When a 202 lacks Location, or sends a contract header the operation does not declare, then that is a violation', () => {
    expect(contractViolations(accepted({ commandId, orderId }, json)).join()).to.match(/required header location is missing/);
    const withEtag = { ...json, location: `/v1/commands/${commandId}`, etag: '"x"' };
    expect(contractViolations(accepted({ commandId, orderId }, withEtag)).join()).to.match(
      /header etag is sent but not documented/,
    );
  });

  it('When an error is sent as application/json instead of problem+json, then that is a violation', () => {
    const response = { method: 'GET', url: `/v1/orders/${orderId}`, status: 404, headers: json, body: JSON.stringify(notFound) };
    expect(contractViolations(response).join()).to.match(/content type "application\/json" is not documented/);
    expect(contractViolations({ ...response, headers: problemJson })).to.deep.equal([]);
  });

  it('When a problem carries an extension member the Problem schema does not type, then that is a violation', () => {
    const body = JSON.stringify({ ...notFound, secretField: true });
    const response = { method: 'GET', url: `/v1/orders/${orderId}`, status: 404, headers: problemJson, body };
    expect(contractViolations(response).join()).to.match(/additional properties \("secretField"\)/);
  });

  it('When a status is not documented for the operation, then that is a violation', () => {
    const response = { method: 'GET', url: `/v1/orders/${orderId}`, status: 418, headers: problemJson, body: '{}' };
    expect(contractViolations(response).join()).to.match(/status 418 is not documented/);
  });

  it('When a date is not a date-time, or a header value breaks its schema, then that is a violation', () => {
    const command = { id: commandId, type: 'PlaceOrder', status: 'accepted', createdAt: 'yesterday', completedAt: null };
    const response = {
      method: 'GET',
      url: `/v1/commands/${commandId}`,
      status: 200,
      headers: { ...json, etag: 'not-quoted' },
      body: JSON.stringify({ ...command, links: { self: `/v1/commands/${commandId}` }, error: null }),
    };
    const violations = contractViolations(response).join('\n');
    expect(violations).to.match(/createdAt must match format "date-time"/);
    expect(violations).to.match(/header etag must match pattern/);
  });

  it('When a path is outside /v1, then it is not checked; when no operation matches under /v1, only edge problems pass', () => {
    expect(contractViolations({ method: 'GET', url: '/health/ready', status: 200, headers: {}, body: 'ok' })).to.deep.equal([]);
    const edge = { type: '/problems/route.not-found', title: 'Not Found', status: 404, detail: 'No route' };
    const unknown = { method: 'GET', url: '/v1/nothing', status: 404, headers: problemJson, body: JSON.stringify(edge) };
    expect(contractViolations(unknown)).to.deep.equal([]);
    expect(contractViolations({ ...unknown, status: 200, headers: json }).join()).to.match(/no operation in the document/);
  });
});
