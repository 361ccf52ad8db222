import { AppError } from '../../lib/errors.ts';
import type { Clock } from '../../lib/time.ts';
import { TokenSigner } from '../../lib/tokens.ts';
import type { Petition, PetitionsService } from '../petitions/petitions.service.ts';
import { signatureEmailKey } from '../../lib/email-keys.ts';
import { webhookEvent, type WebhookEvent } from '../webhooks/events.ts';
import MailChecker from 'mailchecker';
import { t, withLanguage, type Language } from '../../i18n/i18n.ts';
import { consentWording, parseSignInput } from './signatures.schema.ts';
import type { RemovedSignature, SignaturesRepository } from './signatures.repository.ts';
import { GroupCommitFull } from '../../db/group-commit.ts';
import type { IpPolicy } from '../safety/ip-policy.ts';
import type { SigningRateLimiter } from '../safety/rate-limits.ts';
import type { SigningChallenge } from '../safety/challenge.ts';

export const CONFIRMATION_JOB = 'signature.send_confirmation';
/** A repeat sign-up re-sends the confirmation at most this often, so nobody can mail-bomb an address. */
export const RESEND_INTERVAL_MS = 60_000;

export type ConfirmResult =
  | { status: 'confirmed' | 'already_confirmed'; petition: Petition }
  | { status: 'petition_closed'; petition: Petition };

export class SignaturesService {
  readonly confirmationTokens: TokenSigner;
  readonly removalTokens: TokenSigner;
  /** Signs the moment a signing form was shown, so a form sent back too fast can be recognised. */
  private readonly formTimer: TokenSigner;
  /** The last second's form token (see formStartedToken). */
  private formStarted = { second: -1, token: '' };

  constructor(
    private readonly signatures: SignaturesRepository,
    private readonly petitions: PetitionsService,
    private readonly clock: Clock,
    secretKey: string,
    private readonly onJobQueued: () => void = () => {},
    private readonly options: {
      blockedEmailDomains: string[];
      listens?: (event: WebhookEvent) => Promise<boolean>;
      ipPolicy?: IpPolicy;
      /** Per-IP and per-domain limits for each petition; absent when rate limiting is off. */
      limiter?: SigningRateLimiter | null;
      /** The emergency check before each signature (SIGN_CHALLENGE); null when off. */
      challenge?: SigningChallenge | null;
      /**
       * Forgets a removed signer wherever else they are named (the fraud review's kept findings).
       * Runs after the removal has committed; it reports its own failures rather than throw, as
       * the signer's removal has happened.
       */
      forgetSigner?: (removed: RemovedSignature) => Promise<void>;
    } = { blockedEmailDomains: [] },
  ) {
    this.confirmationTokens = new TokenSigner(secretKey, 'signature-confirmation');
    this.removalTokens = new TokenSigner(secretKey, 'signature-removal');
    this.formTimer = new TokenSigner(secretKey, 'sign-form-started');
  }

  /**
   * What this process has done since it started, for the site's metrics: signatures acknowledged,
   * confirmed, and turned away because too many were waiting to be stored.
   */
  readonly activity = { received: 0, confirmed: 0, turnedAway: { signing: 0, confirming: 0 } };

  /** A puzzle for a signing form, or null when the emergency check is off. */
  issueChallenge(): { challenge: string; bits: number } | null {
    return this.options.challenge?.issue() ?? null;
  }

  /**
   * The hidden value a signing form carries: when it was shown. The same for every form shown in
   * one second, so made once a second rather than once a page view (an HMAC: 2 % of a cached
   * petition page's CPU).
   */
  formStartedToken(): string {
    const second = Math.floor(this.clock().getTime() / 1000);
    if (second !== this.formStarted.second) this.formStarted = { second, token: this.formTimer.sign(second) };
    return this.formStarted.token;
  }

  /**
   * True for a web form that a bot filled: the hidden honeypot field has a value, or it came back
   * sooner than a person could type (`minSeconds`), or with a forged timestamp. Such submissions
   * are answered as if accepted, and not recorded, so bots learn nothing.
   */
  looksAutomated(fields: { website?: string; form_started?: string }, minSeconds: number): boolean {
    if (fields.website) return true;
    if (!fields.form_started) return false;
    const started = this.formTimer.verify(fields.form_started);
    if (started === null) return true;
    return this.clock().getTime() / 1000 - started < minSeconds;
  }

  /**
   * Records a signature pending email confirmation. The outcome is the same whether or not the
   * address signed before, so the response reveals nothing about who has signed. `origin.language`
   * is the signer's: their confirmation email and the consent wording they saw are in it.
   */
  async recordSignature(slug: string, input: unknown, origin: { ip: string | null; language: Language } = { ip: null, language: 'en' }): Promise<void> {
    // Read before the fields are checked, so that a petition that is not open says so first; a
    // token longer than any issued is refused with the other fields below.
    const given = (input as { support_token?: unknown } | null)?.support_token;
    const supportToken = typeof given === 'string' && given.length <= 200 ? given : null;
    const petition = await this.petitions.petitionForSigning(slug, supportToken);
    const data = parseSignInput(input);
    this.assertAcceptableEmail(data.email);
    const ipPolicy = this.options.ipPolicy;
    if (ipPolicy?.isBlocked(origin.ip)) {
      throw new AppError('forbidden', 'Signatures are not being accepted from your network at the moment. If you think this is a mistake, please contact the site’s team.');
    }
    // Checked after the fields, so a form sent back with a mistake does not use up its puzzle.
    await this.options.challenge?.verify((input ?? {}) as Record<string, unknown>);
    const domain = data.email.split('@').pop()!.toLowerCase();
    const ipHash = origin.ip && ipPolicy ? ipPolicy.hash(origin.ip) : null;
    const verdict = (await this.options.limiter?.check(petition.id, ipHash, domain)) ?? { ok: true };
    if (!verdict.ok) {
      const minutes = Math.max(1, Math.ceil(verdict.retryAfterSeconds / 60));
      const wait = `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
      throw new AppError(
        'rate_limited',
        verdict.reason === 'ip'
          ? `Many people have signed this petition from your network in the last hour, so signatures from it are paused for a while. Please try again in ${wait}, or from another connection such as mobile data.`
          : // Written in the signer's language here: the domain is not a number, so the message
            // could not be matched to a translation afterwards (see translateMessage).
            withLanguage(origin.language, () => t('sign.limit_domain', { count: minutes, domain })),
        { retryAfterSeconds: verdict.retryAfterSeconds },
      );
    }
    const now = this.clock();
    const consent = consentWording(origin.language);
    const { queued } = await unlessFull(
      this.signatures.recordSignature(
        {
          petitionId: petition.id,
          name: data.name,
          email: data.email,
          emailKey: signatureEmailKey(data.email),
          postcode: data.postcode,
          country: data.country,
          publicName: data.public_name,
          contactOptIn: data.contact_opt_in,
          ip: origin.ip,
          ipHash,
          language: origin.language,
          consent: {
            public_name: data.public_name ? consent.public_name : null,
            contact_opt_in: data.contact_opt_in ? consent.contact_opt_in : null,
          },
        },
        now,
        new Date(now.getTime() - RESEND_INTERVAL_MS).toISOString(),
        CONFIRMATION_JOB,
      ),
      'So many people are signing right now that your signature could not be taken. Please try again in a few seconds.',
      () => this.activity.turnedAway.signing++,
    );
    this.activity.received++;
    if (queued) this.onJobQueued();
  }

  /** Confirms the signature a link was made for. Following the same link again is harmless. */
  async confirmSignature(token: string): Promise<ConfirmResult> {
    const signatureId = this.confirmationTokens.verify(token);
    if (signatureId === null) throw invalidLink();
    const now = this.clock();
    const announce = (await this.options.listens?.('signature.confirmed')) ?? false;
    const { outcome, petitionId } = await unlessFull(
      this.signatures.confirm(
        signatureId,
        now,
        { gathersSupporters: this.petitions.gathersSupporters },
        // The petition's id is filled in by the batch that confirms it.
        announce ? webhookEvent('signature.confirmed', 0, { signatureId }) : null,
      ),
      'So many people are confirming right now that yours could not be recorded. Please follow the link again in a few seconds.',
      () => this.activity.turnedAway.confirming++,
    );
    if (outcome === 'confirmed') this.activity.confirmed++;
    if (announce && outcome === 'confirmed') this.onJobQueued();
    const petition = petitionId === null ? null : await this.petitions.recentById(petitionId);
    if (outcome === 'not_found' || !petition) throw invalidLink();
    return { status: outcome, petition };
  }

  /** Removes the signature a removal link was made for (the signer changed their mind). */
  async removeSignature(token: string): Promise<Petition> {
    const id = this.removalTokens.verify(token);
    const removed = id === null ? null : await this.removeAndForget(id);
    const petition = removed ? await this.petitions.getById(removed.petitionId) : null;
    if (!petition) throw new AppError('not_found', 'This link is not valid, or the signature was already removed.');
    return petition;
  }

  /** Everything held about one email address (a data-subject access request). */
  async exportPersonalData(email: string) {
    const rows = await this.signatures.findByEmail(signatureEmailKey(email));
    return rows.map((r) => ({
      petition: { slug: r.petition_slug, title: r.petition_title },
      name: r.name,
      email: r.email,
      postcode: r.postcode,
      country: r.country,
      status: r.status,
      show_name_publicly: r.public_name === 1,
      contact_opt_in: r.contact_opt_in === 1,
      consent: r.consent ? { ...(JSON.parse(r.consent) as object), at: r.created_at } : null,
      signed_at: r.created_at,
      confirmed_at: r.confirmed_at,
      unsubscribed_at: r.unsubscribed_at,
      language: r.language,
      // Kept for the fraud-review period only (IP_RETENTION_DAYS), then null.
      ip_address: r.ip,
    }));
  }

  /** Erases every signature given with an email address (a data-subject erasure request); counts follow. */
  async erasePersonalData(email: string): Promise<number> {
    const rows = await this.signatures.findByEmail(signatureEmailKey(email));
    for (const row of rows) await this.removeAndForget(row.id);
    return rows.length;
  }

  /**
   * Deletes a signature (counts follow; kept fraud findings are marked outdated with it), then
   * its signer's traces in those findings until they are computed again.
   */
  private async removeAndForget(signatureId: number): Promise<RemovedSignature | null> {
    const removed = await this.signatures.remove(signatureId, this.clock());
    if (removed) await this.options.forgetSigner?.(removed);
    return removed;
  }

  removalUrl(baseUrl: string, signatureId: number): string {
    return `${baseUrl}/signatures/remove?token=${this.removalTokens.sign(signatureId)}`;
  }

  /** Disposable-address services and blocked domains cannot sign: every signature must reach a person. */
  private assertAcceptableEmail(email: string): void {
    const domain = email.split('@').pop()!.toLowerCase();
    if (this.options.blockedEmailDomains.some((d) => domain === d || domain.endsWith(`.${d}`))) {
      throw new AppError('validation_failed', 'Signatures from this email domain are not accepted. Use another address.', { field: 'email' });
    }
    if (!MailChecker.isValid(email)) {
      throw new AppError('validation_failed', 'Use a permanent email address: addresses from disposable email services cannot sign.', { field: 'email' });
    }
  }

  /** The link a signer follows to confirm. */
  confirmationUrl(baseUrl: string, signatureId: number): string {
    return `${baseUrl}/signatures/confirm?token=${this.confirmationTokens.sign(signatureId)}`;
  }
}

function invalidLink(): AppError {
  return new AppError(
    'invalid_confirmation_link',
    'This confirmation link is not valid. Check that you copied the whole link from the email.',
  );
}

/**
 * More people are waiting for their signature (or confirmation) to be stored than the site can
 * store in a few seconds: the newcomer is told at once to try again shortly (503 with
 * Retry-After), rather than kept waiting until a proxy gives up. Nothing was stored.
 */
async function unlessFull<T>(work: Promise<T>, message: string, onFull: () => void): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof GroupCommitFull) {
      onFull();
      throw new AppError('service_unavailable', message, { retryAfterSeconds: 5 });
    }
    throw err;
  }
}
