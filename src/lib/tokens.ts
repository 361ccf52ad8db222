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

/**
 * Tokens that expire and die when the state they are bound to changes: a password-reset link is
 * bound to the current password hash, so it works once. Form: `<id>.<expiry seconds>.<mac>`.
 */
export class ExpiringTokenSigner {
  private readonly key: Buffer;

  constructor(secretKey: string, purpose: string) {
    this.key = createHmac('sha256', secretKey).update(`undersign:${purpose}`).digest();
  }

  sign(id: number, expiresAt: Date, binding: string): string {
    const expires = Math.floor(expiresAt.getTime() / 1000);
    return `${id}.${expires}.${this.mac(id, expires, binding)}`;
  }

  /** The id and expiry a token claims, before its binding is known; null when malformed or expired. */
  peek(token: string, now: Date): { id: number; expires: number; mac: string } | null {
    const match = /^([1-9][0-9]{0,15})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return null;
    const id = Number(match[1]);
    const expires = Number(match[2]);
    if (!Number.isSafeInteger(id) || expires * 1000 <= now.getTime()) return null;
    return { id, expires, mac: match[3]! };
  }

  /** True when the token was made for this id, expiry and binding. */
  matches(claim: { id: number; expires: number; mac: string }, binding: string): boolean {
    const expected = Buffer.from(this.mac(claim.id, claim.expires, binding));
    const given = Buffer.from(claim.mac);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private mac(id: number, expires: number, binding: string): string {
    return createHmac('sha256', this.key).update(`${id}.${expires}.${binding}`).digest('base64url');
  }
}
