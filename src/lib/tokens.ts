import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random, URL-safe secret (sessions, API tokens, generated passwords). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 hex digest: how session and API tokens are stored. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Signs and verifies short tokens of the form `<id>.<mac>` with a key derived for one purpose,
 * so a token made for one use (confirming a signature) is worthless for any other.
 * Verification needs no database lookup, which keeps the confirm path cheap under load.
 */
export class TokenSigner {
  private readonly key: Buffer;

  constructor(secretKey: string, purpose: string) {
    this.key = createHmac('sha256', secretKey).update(`undersign:${purpose}`).digest();
  }

  sign(id: number): string {
    return `${id}.${this.mac(String(id))}`;
  }

  /** Returns the id the token was made for, or null when it is malformed or forged. */
  verify(token: string): number | null {
    const match = /^([1-9][0-9]{0,15})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return null;
    const [, idText, mac] = match as unknown as [string, string, string];
    const expected = Buffer.from(this.mac(idText));
    const given = Buffer.from(mac);
    if (!timingSafeEqual(expected, given)) return null;
    const id = Number(idText);
    return Number.isSafeInteger(id) ? id : null;
  }

  private mac(value: string): string {
    return createHmac('sha256', this.key).update(value).digest('base64url');
  }
}
