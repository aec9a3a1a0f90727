import { expect } from 'chai';
import { Registry } from 'prom-client';
import { startHealthServer } from '../../src/platform/health-server.js';

describe("A worker's health server", () => {
  it('When a worker is not ready, then readiness answers 503 with the same service.not-ready problem as the API, naming its checks', async () => {
    const checks = { draining: 'true', redis: 'ok' };
    const { server, port } = await startHealthServer(0, { ready: async () => ({ ok: false, checks }) }, new Registry());
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`);

      expect(response.status).to.equal(503);
      expect(response.headers.get('content-type')).to.equal('application/problem+json');
      expect(await response.json()).to.deep.include({ type: '/problems/service.not-ready', status: 503, checks });
    } finally {
      server.close();
    }
  });

  it('When a worker is ready, then readiness answers 200 with its checks', async () => {
    const checks = { draining: 'false', redis: 'ok' };
    const { server, port } = await startHealthServer(0, { ready: async () => ({ ok: true, checks }) }, new Registry());
    try {
      const response = await fetch(`http://127.0.0.1:${port}/health/ready`);

      expect(response.status).to.equal(200);
      expect(await response.json()).to.deep.equal({ status: 'ok', checks });
    } finally {
      server.close();
    }
  });
});
