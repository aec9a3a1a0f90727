import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from './resolve-host.js';

export interface PinnedPost {
  url: URL;
  /** The address to connect to: the one that was checked, so DNS cannot change it in between. */
  address: ResolvedAddress;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/**
 * POSTs `body` to `url` over a connection to `address`, never resolving the host again. The Host
 * header, TLS server name and certificate check still use the URL's host name. No redirects are
 * followed. Resolves with the status code once the response headers arrive; the whole exchange is
 * bounded by `timeoutMs`.
 */
export function postPinned({ url, address, headers, body, timeoutMs }: PinnedPost): Promise<{ status: number }> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinnedLookup(address),
        agent: false,
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        response.on('error', () => undefined); // the body is not read; a reset after the status changes nothing
        response.resume();
        resolve({ status: response.statusCode ?? 0 });
      },
    );
    request.on('error', (error) =>
      reject(error.name === 'AbortError' ? new Error(`no response from ${url.host} within ${timeoutMs} ms`) : error),
    );
    request.end(body);
  });
}

/** A DNS lookup that always answers with the pinned address (both callback shapes Node uses). */
function pinnedLookup(pinned: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}
