import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures (documented for receivers in docs/webhooks.md): HMAC-SHA256, keyed with the
 * subscription's secret (its UTF-8 bytes, `whsec_` prefix included), over `${timestamp}.${body}`,
 * sent as `Webhook-Signature: v1=<lowercase hex>`. The version prefix lets the scheme change
 * without breaking receivers that check it.
 */
export const SIGNATURE_VERSION = 'v1';

/** A new random signing secret: 32 bytes, base64url, with a recognisable prefix. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** The `Webhook-Signature` value for `body` sent at `timestamp` (Unix seconds). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const digest = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `${SIGNATURE_VERSION}=${digest}`;
}

/** What a receiver does: recompute, compare in constant time, and refuse old timestamps (replays). */
export function verifyWebhook(input: {
  secret: string;
  timestamp: string;
  body: string;
  signature: string;
  nowSeconds: number;
  toleranceSeconds?: number;
}): boolean {
  const timestamp = Number(input.timestamp);
  if (!/^\d+$/.test(input.timestamp) || Math.abs(input.nowSeconds - timestamp) > (input.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(input.secret, timestamp, input.body));
  const received = Buffer.from(input.signature);
  return received.length === expected.length && timingSafeEqual(received, expected);
}
