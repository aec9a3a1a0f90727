import { createHash } from 'node:crypto';

/**
 * A JSON answer serialized ahead of the response, with its entity tag: a cached list page is kept
 * as the bytes and tag it was sent with, so a hit costs neither JSON nor a hash. The HTTP edge's
 * conditional-GET middleware sends the bytes as they are; anything else that serializes it
 * (`JSON.stringify`) gets the same JSON through `toJSON`.
 */
export class JsonBody<T = unknown> {
  private constructor(
    readonly bytes: Buffer,
    readonly tag: string,
  ) {}

  static of<T>(value: T): JsonBody<T> {
    const bytes = Buffer.from(JSON.stringify(value));
    return new JsonBody<T>(bytes, entityTag(bytes));
  }

  toJSON(): T {
    return JSON.parse(this.bytes.toString('utf8')) as T;
  }
}

/** A strong entity tag over a body (RFC 9110 8.8.3): 160 bits of its SHA-256. */
export function entityTag(body: string | Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}
