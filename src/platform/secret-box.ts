import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** One data-encryption key: an id stored with every value it seals, and 32 bytes for AES-256. */
export interface SecretKey {
  id: string;
  key: Buffer;
}

const PREFIX = 'sealed:v1';

/**
 * Secrets at rest (webhook signing secrets, idempotent replies that carry them): AES-256-GCM with
 * a random 96-bit nonce per value. `context` is authenticated but not stored (GCM's additional
 * data), so a sealed value copied to another row or purpose does not open. The first key seals;
 * every key opens what it sealed, so rotation is: put a new key first, keep the old ones until
 * `npm run ops -- reseal-secrets` has re-sealed every stored value, then drop them
 * (docs/security.md#secrets-at-rest).
 */
export class SecretBox {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: readonly [SecretKey, ...SecretKey[]]) {
    this.byId = new Map(keys.map(({ id, key }) => [id, key]));
  }

  seal(plaintext: string, context: string): string {
    const { id, key } = this.keys[0];
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(Buffer.from(context));
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      PREFIX,
      id,
      nonce.toString('base64url'),
      sealed.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join(':');
  }

  open(value: string, context: string): string {
    const [prefix, version, id, nonce, sealed, tag] = value.split(':');
    const key = this.byId.get(id ?? '');
    if (`${prefix}:${version}` !== PREFIX || !key || !nonce || sealed === undefined || !tag) {
      throw new Error(`not a value sealed with a configured key (key id ${id ?? 'none'}); see SECRET_ENCRYPTION_KEYS`);
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'))
      .setAAD(Buffer.from(context))
      .setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** The id of the key that seals now: the first of SECRET_ENCRYPTION_KEYS. */
  get currentKeyId(): string {
    return this.keys[0].id;
  }

  /** How every value sealed with the key that seals now begins (to find the others in SQL). */
  get currentPrefix(): string {
    return `${PREFIX}:${this.keys[0].id}:`;
  }

  /** Whether `value` was sealed with the key that seals now (rotation: everything else is re-sealed). */
  isCurrent(value: string): boolean {
    return value.startsWith(this.currentPrefix);
  }
}
