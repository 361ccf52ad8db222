import { createHash, randomInt } from 'node:crypto';
import { AppError } from '../../lib/errors.ts';
import type { Clock } from '../../lib/time.ts';
import { TokenSigner } from '../../lib/tokens.ts';
import type { RateLimitStore } from './rate-limits.ts';

/** What a signing form or API client must answer before a signature is taken, when switched on. */
export interface SigningChallenge {
  /** A new puzzle for one form. */
  issue(): { challenge: string; bits: number };
  /** Accepts a correct, fresh, unused answer; otherwise throws a 422 naming the `challenge` field. */
  verify(input: { challenge?: unknown; challenge_answer?: unknown }): Promise<void>;
}

const LIFETIME_MS = 30 * 60_000;

/** True when SHA-256 of `challenge:answer` starts with at least `bits` zero bits. */
export function solves(challenge: string, answer: string, bits: number): boolean {
  const digest = createHash('sha256').update(`${challenge}:${answer}`).digest();
  let zeros = 0;
  for (const byte of digest) {
    if (byte === 0) {
      zeros += 8;
      if (zeros >= bits) return true;
      continue;
    }
    zeros += Math.clz32(byte) - 24;
    break;
  }
  return zeros >= bits;
}

/**
 * An emergency brake for a flood of scripted signatures (SIGN_CHALLENGE=proof-of-work): each form
 * carries a signed puzzle that a browser solves in about a second (public/proof-of-work.js), so
 * every signature costs the sender CPU time. Each puzzle is good for one signature within 30
 * minutes. Off by default: it needs JavaScript, which the signing form otherwise never does.
 * Another check (a CAPTCHA service) can be plugged in by implementing {@link SigningChallenge}.
 */
export class ProofOfWorkChallenge implements SigningChallenge {
  private readonly signer: TokenSigner;

  constructor(
    secretKey: string,
    private readonly bits: number,
    private readonly clock: Clock,
    private readonly used: RateLimitStore,
  ) {
    this.signer = new TokenSigner(secretKey, 'signing-challenge');
  }

  issue(): { challenge: string; bits: number } {
    // The id is the issue time in seconds followed by six random digits.
    const id = Math.floor(this.clock().getTime() / 1000) * 1_000_000 + randomInt(1_000_000);
    return { challenge: this.signer.sign(id), bits: this.bits };
  }

  async verify(input: { challenge?: unknown; challenge_answer?: unknown }): Promise<void> {
    const fail = (message: string) => new AppError('validation_failed', message, { field: 'challenge' });
    const challenge = typeof input.challenge === 'string' ? input.challenge : '';
    const answer = typeof input.challenge_answer === 'string' ? input.challenge_answer.slice(0, 40) : '';
    const id = this.signer.verify(challenge);
    if (id === null || !answer) throw fail('This petition is being flooded with automated signatures, so signing needs a quick check by your browser. Reload the page (with JavaScript on) and sign again.');
    const issuedAt = Math.floor(id / 1_000_000) * 1000;
    const now = this.clock().getTime();
    if (now - issuedAt > LIFETIME_MS || issuedAt - now > 60_000) throw fail('This form is too old. Reload the page and sign again.');
    if (!solves(challenge, answer, this.bits)) throw fail('The check your browser made did not work out. Reload the page and sign again.');
    const hit = await this.used.hit(`challenge|${challenge}`, LIFETIME_MS * 2, now);
    if (hit.current > 1) throw fail('This form was already used to sign. Reload the page to sign again.');
  }
}
