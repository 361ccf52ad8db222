import { letOtherWritersIn } from '../../db/database.ts';
import { isLanguage, localisedUrl, t, withLanguage } from '../../i18n/i18n.ts';
import { petitionText } from '../petitions/petition-text.ts';
import type { BroadcastKind } from '../../db/schema.ts';
import type { JobHandler } from '../../jobs/worker.ts';
import { renderMarkdown } from '../../lib/markdown.ts';
import type { Clock } from '../../lib/time.ts';
import { TokenSigner } from '../../lib/tokens.ts';
import type { Mailer } from '../../mail/mailer.ts';
import { z } from 'zod';
import { AppError, validationError } from '../../lib/errors.ts';
import { multiLine, singleLine } from '../../lib/text.ts';
import { authorize } from '../petitions/petition-policy.ts';
import { fieldErrorsFrom, type Petition, type PetitionsService } from '../petitions/petitions.service.ts';
import type { User } from '../users/users.service.ts';
import type { Broadcast, BroadcastsRepository, Recipient } from './broadcasts.repository.ts';

export const BROADCAST_JOB = 'broadcast.send';

export const ThanksInput = z.object({
  subject: singleLine({ min: 3, max: 150, required: 'Write a subject line' }),
  message: multiLine({ min: 3, max: 20_000, required: 'Write your message' }),
});
const BATCH_SIZE = 50;
/** Messages handed to the SMTP connection pool at once. */
const PARALLEL_SENDS = 5;
/** A job sends for at most this long, then hands over to a fresh job (so locks never expire mid-send). */
const JOB_TIME_BUDGET_MS = 60_000;

export interface BroadcastsServiceOptions {
  baseUrl: string;
  siteName: string;
  secretKey: string;
}

/**
 * Emails to everyone who signed a petition and agreed to hear from the campaign: updates and
 * thank-you messages. Sent through the outbox in batches; each recipient is reserved before the
 * message goes out, so a crash or a retry never sends anyone the same message twice.
 */
export class BroadcastsService {
  readonly unsubscribeTokens: TokenSigner;

  constructor(
    private readonly broadcasts: BroadcastsRepository,
    private readonly petitions: PetitionsService,
    private readonly mailer: Mailer,
    private readonly clock: Clock,
    private readonly options: BroadcastsServiceOptions,
    private readonly onJobQueued: () => void = () => {},
  ) {
    this.unsubscribeTokens = new TokenSigner(options.secretKey, 'unsubscribe');
  }

  /** Starts sending; the caller has checked the user may message this petition's signers. */
  async start(input: { petition: Petition; kind: BroadcastKind; updateId: number | null; subject: string; body: string; userId: number }): Promise<Broadcast> {
    const id = await this.broadcasts.create(
      {
        petitionId: input.petition.id,
        kind: input.kind,
        updateId: input.updateId,
        subject: input.subject,
        body: input.body,
        createdBy: input.userId,
      },
      (broadcastId) => ({
        audit: [{ actorId: input.userId, petitionId: input.petition.id, action: `broadcast.${input.kind}`, details: { subject: input.subject } }],
        jobs: [{ kind: BROADCAST_JOB, payload: { broadcastId } }],
      }),
      this.clock(),
    );
    this.onJobQueued();
    return (await this.broadcasts.find(id))!;
  }

  /** A thank-you message from the team to every signer who agreed to hear from the campaign. */
  async sendThanks(user: User, slug: string, input: unknown): Promise<Broadcast> {
    const view = await this.petitions.viewFor(slug, user);
    authorize(view.actor, 'campaign', view.petition, this.petitions.options);
    if (view.petition.state !== 'open' && view.petition.state !== 'closed') {
      throw new AppError('invalid_state_transition', 'Signers can be thanked once the petition is published.');
    }
    const parsed = ThanksInput.safeParse(input);
    if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    return this.start({ petition: view.petition, kind: 'thanks', updateId: null, subject: parsed.data.subject, body: parsed.data.message, userId: user.id });
  }

  async listForPetition(petitionId: number): Promise<Broadcast[]> {
    return this.broadcasts.listForPetition(petitionId);
  }

  async find(id: number): Promise<Broadcast | null> {
    return this.broadcasts.find(id);
  }

  /** Stops campaign emails for the signature an unsubscribe link was made for. */
  async unsubscribe(token: string): Promise<Petition | null> {
    const signatureId = this.unsubscribeTokens.verify(token);
    if (signatureId === null) return null;
    const petitionId = await this.broadcasts.unsubscribe(signatureId, this.clock());
    return petitionId === null ? null : this.petitions.getById(petitionId);
  }

  unsubscribeUrl(signatureId: number): string {
    return `${this.options.baseUrl}/unsubscribe/${this.unsubscribeTokens.sign(signatureId)}`;
  }

  /** The job that sends a broadcast: batches until done or out of time, then a fresh job continues. */
  jobHandlers(): Record<string, JobHandler> {
    return {
      [BROADCAST_JOB]: async (payload) => {
        const broadcast = await this.broadcasts.find(Number(payload.broadcastId));
        if (!broadcast) return;
        // Finished, but its delivery rows may not all have gone (the process stopped meanwhile).
        if (broadcast.finishedAt) return this.forgetDeliveries(broadcast.id);
        const petition = await this.petitions.getById(broadcast.petitionId);
        if (!petition) return;
        const { maxSignatureId, progressId } = await this.broadcasts.progress(broadcast.id);
        const started = Date.now();
        for (let after = progressId; ; ) {
          const recipients = await this.broadcasts.nextRecipients(broadcast, after, maxSignatureId, BATCH_SIZE);
          if (recipients.length === 0) {
            await this.broadcasts.finish(broadcast.id, this.clock());
            await this.forgetDeliveries(broadcast.id);
            return;
          }
          for (let i = 0; i < recipients.length; i += PARALLEL_SENDS) {
            // Each round's recipients are reserved in one write (on SQLite each write is an fsync),
            // just before they are sent: a crash loses at most one round, never sends twice.
            const round = recipients.slice(i, i + PARALLEL_SENDS);
            const claimed = await this.broadcasts.claimDeliveries(broadcast.id, round.map((r) => r.signatureId), this.clock());
            const mine = round.filter((r) => claimed.has(r.signatureId));
            const results = await Promise.allSettled(mine.map((r) => this.deliver(broadcast, petition, r)));
            const failed = mine.filter((_, k) => results[k]!.status === 'rejected');
            // The batch's progress is recorded once all of it is dealt with, with its last sends.
            const batchDone = failed.length === 0 && i + PARALLEL_SENDS >= recipients.length;
            await this.broadcasts.recordSent(broadcast.id, mine.length - failed.length, batchDone ? recipients.at(-1)!.signatureId : null);
            if (failed.length > 0) {
              // What was not sent is given back; the job retries later and carries on from there.
              await this.broadcasts.releaseDeliveries(broadcast.id, failed.map((r) => r.signatureId));
              throw (results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!).reason;
            }
          }
          after = recipients.at(-1)!.signatureId;
          if (Date.now() - started > JOB_TIME_BUDGET_MS) throw new ContinueLater();
        }
      },
    };
  }

  /** Deletes a finished broadcast's delivery rows, a few thousand at a time. */
  private async forgetDeliveries(broadcastId: number): Promise<void> {
    while ((await this.broadcasts.forgetDeliveries(broadcastId, 5000)) > 0) await letOtherWritersIn();
  }

  /** Sends one reserved recipient's copy. */
  private async deliver(broadcast: Broadcast, petition: Petition, recipient: Recipient): Promise<void> {
    // The campaign's words go as written; the greeting, links and footer are in the signer's language.
    await this.mailer.send(withLanguage(isLanguage(recipient.language) ? recipient.language : 'en', () => this.message(broadcast, petition, recipient)));
  }

  /**
   * The subject line in the recipient's language where the site wrote it (the response, the
   * outcome); a campaign's own subject (updates, thanks) goes as the team wrote it.
   */
  private subjectFor(broadcast: Broadcast, petition: Petition): string {
    const { title } = petitionText(petition);
    if (broadcast.kind === 'response') return t('email.response_subject', { title });
    if (broadcast.kind === 'outcome' && petition.outcome) return t('email.outcome_subject', { outcome: t(`handin.outcome_${petition.outcome.result}`), title });
    return broadcast.subject;
  }

  private message(broadcast: Broadcast, petition: Petition, recipient: { signatureId: number; name: string; email: string }) {
    const unsubscribe = localisedUrl(this.unsubscribeUrl(recipient.signatureId));
    const url = localisedUrl(broadcast.updateId ? `${this.petitions.urlFor(petition)}/updates/${broadcast.updateId}` : this.petitions.urlFor(petition));
    const footer = t('email.broadcast_footer', { title: petitionText(petition).title });
    const greeting = t('email.dear', { name: recipient.name });
    const text = [greeting, '', broadcast.body, '', t('email.read_online_at', { url }), '', '—', footer, t('email.unsubscribe_at', { url: unsubscribe })].join('\n');
    const html = `<p>${escapeHtml(greeting)}</p>${renderMarkdown(broadcast.body)}<p><a href="${escapeHtml(url)}">${escapeHtml(t('email.read_online'))}</a></p><hr><p style="color:#555;font-size:90%">${escapeHtml(footer)} <a href="${escapeHtml(unsubscribe)}">${escapeHtml(t('unsubscribe.button'))}</a></p>`;
    return {
      to: recipient.email,
      subject: this.subjectFor(broadcast, petition),
      text,
      html,
      headers: {
        'List-Unsubscribe': `<${unsubscribe}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        'List-Id': `${petition.slug} <${petition.slug}.petitions.${new URL(this.options.baseUrl).hostname}>`,
      },
    };
  }
}

/**
 * Thrown when a sending job has used its time: the job is retried promptly and carries on where
 * it stopped (every recipient already sent is recorded).
 */
export class ContinueLater extends Error {
  readonly retryInMs = 0;
  constructor() {
    super('continuing in a new job');
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
