import { letOtherWritersIn } from '../../db/database.ts';
import { withExample } from '../openapi/examples.ts';
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { JobHandler } from '../../jobs/worker.ts';
import { AppError, forbidden, validationError } from '../../lib/errors.ts';
import type { Clock } from '../../lib/time.ts';
import { randomToken } from '../../lib/tokens.ts';
import { authorize } from '../petitions/petition-policy.ts';
import { fieldErrorsFrom, type Petition, type PetitionsService } from '../petitions/petitions.service.ts';
import type { SignaturesRepository } from '../signatures/signatures.repository.ts';
import type { User } from '../users/users.service.ts';
import { WEBHOOK_EVENT_JOB, WEBHOOK_EVENTS, type WebhookEvent } from './events.ts';
import type { DeliveryRow, WebhookRow, WebhooksRepository } from './webhooks.repository.ts';

const EVENT_JOB = WEBHOOK_EVENT_JOB;
const DELIVER_JOB = 'webhook.deliver';
/** How long the delivery log keeps a delivery (the webhook pages show the latest ten). */
export const DELIVERY_LOG_DAYS = 30;

export const WebhookInput = withExample(
  z.object({
  url: z.string({ error: 'Enter the address to call' }).trim().max(1000).pipe(z.url({ error: 'Enter a web address like https://example.org/hooks' })),
  events: z.array(z.enum(WEBHOOK_EVENTS, { error: `Events are: ${WEBHOOK_EVENTS.join(', ')}` })).min(1, 'Choose at least one event'),
  petition: z.string().trim().min(1).max(200).optional().nullable(),
  include_personal_data: z.boolean().optional().default(false),
  }),
  { url: 'https://crm.example.org/hooks/undersign', events: ['signature.confirmed', 'milestone.reached'], petition: 'keep-the-mets-human-trafficking-unit-open', include_personal_data: false },
);

/** The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe-style receivers expect. */
export function signatureHeader(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Webhooks for the campaign's other tools: owners register endpoints for their petition, admins
 * for the whole site. Events go through the job queue, signed, retried with backoff, and logged.
 */
export class WebhooksService {
  private listeningCache = new Map<string, { value: boolean; until: number }>();

  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly petitions: PetitionsService,
    private readonly signatures: SignaturesRepository,
    private readonly clock: Clock,
    private readonly options: { production: boolean; siteName: string },
    private readonly onJobQueued: () => void = () => {},
  ) {}

  async create(user: User, input: unknown): Promise<WebhookRow> {
    const parsed = WebhookInput.safeParse(input);
    if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    const data = parsed.data;
    const url = new URL(data.url);
    // HTTPS only; plain http only to this machine outside production (for trying things out).
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback && !this.options.production)) {
      throw new AppError('validation_failed', 'Use an https:// address', { field: 'url' });
    }
    const petition = data.petition ? await this.manageable(user, data.petition) : null;
    if (!petition && user.role !== 'admin') throw forbidden('Only administrators can add site-wide webhooks; name a petition you own.');
    this.listeningCache.clear();
    return this.webhooks.insert({
      owner_id: user.id,
      petition_id: petition?.id ?? null,
      url: url.toString(),
      events: JSON.stringify(data.events),
      secret: `whsec_${randomToken(24)}`,
      include_personal_data: data.include_personal_data ? 1 : 0,
      created_at: this.clock().toISOString(),
    });
  }

  async list(user: User, petitionSlug: string | null): Promise<{ webhook: WebhookRow; deliveries: DeliveryRow[] }[]> {
    const petition = petitionSlug ? await this.manageable(user, petitionSlug) : null;
    if (!petition && user.role !== 'admin') throw forbidden('Only administrators can see site-wide webhooks.');
    const rows = await this.webhooks.list(petition?.id ?? null);
    return Promise.all(rows.map(async (webhook) => ({ webhook, deliveries: await this.webhooks.recentDeliveries(webhook.id, 10) })));
  }

  async remove(user: User, id: number): Promise<void> {
    await this.owned(user, id);
    await this.webhooks.softDelete(id, this.clock());
    this.listeningCache.clear();
  }

  /** Sends a `ping` to one webhook, to check the receiving end. */
  async sendTest(user: User, id: number): Promise<number> {
    const webhook = await this.owned(user, id);
    const deliveryId = await this.queue(webhook, 'ping', { message: `A test event from ${this.options.siteName}` });
    this.onJobQueued();
    return deliveryId;
  }

  /** Whether any webhook wants this event (cached briefly: it is asked on the confirmation path). */
  async anyListening(event: WebhookEvent): Promise<boolean> {
    const cached = this.listeningCache.get(event);
    if (cached && cached.until > Date.now()) return cached.value;
    const value = await this.webhooks.anyListening(event);
    this.listeningCache.set(event, { value, until: Date.now() + 5000 });
    return value;
  }

  /**
   * Forgets deliveries logged more than {@link DELIVERY_LOG_DAYS} days ago (long given up or
   * delivered): a webhook on `signature.confirmed` logs one a signature, ten million for a big
   * petition, and an undelivered one's payload may hold a signer's details.
   */
  async forgetOldDeliveries(): Promise<void> {
    const before = new Date(this.clock().getTime() - DELIVERY_LOG_DAYS * 86_400_000).toISOString();
    while ((await this.webhooks.forgetDeliveriesBefore(before, 1000)) === 1000) await letOtherWritersIn();
  }

  jobHandlers(): Record<string, JobHandler> {
    return {
      // Fans an event out to every webhook that wants it, one logged delivery each.
      [EVENT_JOB]: async (payload) => {
        const event = String(payload.event) as WebhookEvent;
        const petitionId = Number(payload.petitionId);
        const petition = await this.petitions.getById(petitionId);
        if (!petition) return;
        for (const webhook of await this.webhooks.listening(event, petitionId)) {
          const data = await this.eventData(event, petition, (payload.data ?? {}) as Record<string, unknown>, webhook.include_personal_data === 1);
          if (data) await this.queue(webhook, event, data, petition);
        }
      },
      [DELIVER_JOB]: async (payload) => {
        const delivery = await this.webhooks.findDelivery(Number(payload.deliveryId));
        const webhook = delivery ? await this.webhooks.find(delivery.webhook_id) : null;
        if (!delivery || !webhook || delivery.status === 'delivered') return;
        const timestamp = Math.floor(this.clock().getTime() / 1000);
        let status: number | null = null;
        try {
          const response = await fetch(webhook.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'user-agent': `${this.options.siteName}-Webhooks`,
              'undersign-event': delivery.event,
              'undersign-delivery': String(delivery.id),
              'undersign-signature': signatureHeader(webhook.secret, delivery.payload, timestamp),
            },
            body: delivery.payload,
            redirect: 'error',
            signal: AbortSignal.timeout(10_000),
          });
          status = response.status;
          await response.body?.cancel();
          if (status < 200 || status >= 300) throw new Error(`the endpoint answered ${status}`);
        } catch (err) {
          await this.webhooks.recordAttempt(delivery.id, { status: 'failing', responseStatus: status, error: (err as Error).message.slice(0, 500) }, this.clock());
          throw err;
        }
        await this.webhooks.recordAttempt(delivery.id, { status: 'delivered', responseStatus: status, error: null }, this.clock());
      },
    };
  }

  private async queue(webhook: WebhookRow, event: string, data: Record<string, unknown>, petition?: Petition): Promise<number> {
    const now = this.clock();
    return this.webhooks.queueDelivery(
      webhook.id,
      event,
      (deliveryId) =>
        JSON.stringify({
          id: `evt_${deliveryId}`,
          event,
          created_at: now.toISOString(),
          petition: petition
            ? { slug: petition.slug, title: petition.title, url: this.petitions.urlFor(petition), state: petition.state, signature_count: petition.signatureCount }
            : null,
          data,
        }),
      (deliveryId) => ({ jobs: [{ kind: DELIVER_JOB, payload: { deliveryId }, maxAttempts: 10 }] }),
      now,
    );
  }

  /** What an event says; the signer's details only to webhooks their owner allowed them for. */
  private async eventData(event: WebhookEvent, petition: Petition, data: Record<string, unknown>, personal: boolean): Promise<Record<string, unknown> | null> {
    if (event !== 'signature.confirmed') return data;
    const signature = await this.signatures.findById(Number(data.signatureId));
    if (!signature) return null;
    const where = { country: signature.country, postcode_district: signature.postcode?.split(' ')[0] ?? null };
    return personal
      ? { ...where, name: signature.name, email: signature.email, postcode: signature.postcode, contact_opt_in: signature.contact_opt_in === 1, confirmed_at: signature.confirmed_at }
      : { ...where, confirmed_at: signature.confirmed_at };
  }

  private async manageable(user: User, slug: string): Promise<Petition> {
    const view = await this.petitions.viewFor(slug, user);
    authorize(view.actor, 'manage_team', view.petition, this.petitions.options);
    return view.petition;
  }

  private async owned(user: User, id: number): Promise<WebhookRow> {
    const webhook = await this.webhooks.find(id);
    if (!webhook) throw new AppError('not_found', 'There is no such webhook.');
    if (webhook.petition_id === null) {
      if (user.role !== 'admin') throw new AppError('not_found', 'There is no such webhook.');
      return webhook;
    }
    const petition = await this.petitions.getById(webhook.petition_id);
    if (!petition) throw new AppError('not_found', 'There is no such webhook.');
    await this.manageable(user, petition.slug).catch(() => {
      throw new AppError('not_found', 'There is no such webhook.');
    });
    return webhook;
  }
}
