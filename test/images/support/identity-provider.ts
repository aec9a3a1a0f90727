import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { rsaKeyPair } from '../../support/tokens.js';

/**
 * What the containers reach outside PostgreSQL and Redis in production, on one loopback port:
 * the identity provider's JWKS (`/jwks.json`) and an OTLP/HTTP receiver (`/v1/*`) that counts
 * exports, standing in for the OpenTelemetry Collector.
 */
export interface Surroundings {
  jwksUri: string;
  otlpEndpoint: string;
  /** Signs an RS256 token as the identity provider would. */
  token(claims: { sub: string; tenant: string; roles: string[] }): string;
  otlpExports(): number;
  close(): Promise<void>;
}

export async function startSurroundings(issuer: string, audience: string): Promise<Surroundings> {
  const keys = rsaKeyPair();
  let exports = 0;
  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/jwks.json') {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [{ ...keys.jwk, kid: 'images-test', use: 'sig', alg: 'RS256' }] }));
      return;
    }
    if (request.method === 'POST' && request.url?.startsWith('/v1/')) {
      request.resume();
      request.on('end', () => {
        exports += 1;
        response.end();
      });
      return;
    }
    response.statusCode = 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    jwksUri: `${base}/jwks.json`,
    otlpEndpoint: base,
    token: ({ sub, ...claims }) =>
      jwt.sign(claims, keys.privateKey, {
        algorithm: 'RS256',
        keyid: 'images-test',
        subject: sub,
        issuer,
        audience,
        expiresIn: 600,
      }),
    otlpExports: () => exports,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
