import { AppError, validationError } from '../../lib/errors.ts';
import type { Clock } from '../../lib/time.ts';
import type { Broadcast } from '../mailings/broadcasts.repository.ts';
import type { BroadcastsService } from '../mailings/broadcasts.service.ts';
import { authorize } from '../petitions/petition-policy.ts';
import { fieldErrorsFrom, type Petition, type PetitionsService } from '../petitions/petitions.service.ts';
import { checkImage, type UploadsRepository } from '../uploads/uploads.ts';
import type { User } from '../users/users.service.ts';
import { webhookEvent } from '../webhooks/events.ts';
import { UpdateInput } from './updates.schema.ts';
import type { PublicUpdate, Update, UpdatesRepository } from './updates.repository.ts';

export interface UpdateWithEmail extends Update {
  /** The email to signers that went with the update, with its progress. */
  email: Broadcast | null;
}

/** Campaign updates: written by owners and editors, shown on the page, optionally emailed to signers. */
export class UpdatesService {
  constructor(
    private readonly updates: UpdatesRepository,
    private readonly uploads: UploadsRepository,
    private readonly petitions: PetitionsService,
    private readonly broadcasts: BroadcastsService,
    private readonly clock: Clock,
  ) {}

  async post(user: User, slug: string, input: unknown, image?: Buffer | null): Promise<UpdateWithEmail> {
    const petition = await this.campaignable(user, slug);
    const data = this.parse(input);
    const now = this.clock();
    const imageUploadId = image?.length ? await this.storeImage(petition, user, image) : null;
    const id = await this.updates.insert(
      { petitionId: petition.id, authorId: user.id, title: data.title, body: data.body, imageUploadId },
      (updateId) => ({
        audit: [{ actorId: user.id, petitionId: petition.id, action: 'update.posted', details: { id: updateId, title: data.title } }],
        jobs: [webhookEvent('update.published', petition.id, { id: updateId, title: data.title, url: `${this.petitions.urlFor(petition)}/updates/${updateId}` })],
      }),
      now,
    );
    const email = data.email_signers
      ? await this.broadcasts.start({ petition, kind: 'update', updateId: id, subject: `${data.title} — ${petition.title}`, body: data.body, userId: user.id })
      : null;
    return { ...(await this.updates.find(petition.id, id))!, email };
  }

  async edit(user: User, slug: string, id: number, input: unknown, image?: Buffer | null): Promise<UpdateWithEmail> {
    const petition = await this.campaignable(user, slug);
    const data = this.parse(input);
    const imageUploadId = image?.length ? await this.storeImage(petition, user, image) : undefined;
    const changed = await this.updates.update(
      petition.id,
      id,
      { title: data.title, body: data.body, imageUploadId },
      { audit: [{ actorId: user.id, petitionId: petition.id, action: 'update.edited', details: { id, title: data.title } }] },
      this.clock(),
    );
    if (!changed) throw updateNotFound();
    return (await this.withEmails(petition.id, [(await this.updates.find(petition.id, id))!]))[0]!;
  }

  async remove(user: User, slug: string, id: number): Promise<void> {
    const petition = await this.campaignable(user, slug);
    const removed = await this.updates.delete(petition.id, id, { audit: [{ actorId: user.id, petitionId: petition.id, action: 'update.deleted', details: { id } }] }, this.clock());
    if (!removed) throw updateNotFound();
  }

  /** A petition's updates, newest first, for whoever may see the petition. */
  async list(slug: string, viewer: User | null): Promise<{ petition: Petition; updates: UpdateWithEmail[] }> {
    const petition = await this.petitions.getForViewer(slug, viewer);
    return { petition, updates: await this.withEmails(petition.id, await this.updates.listForPetition(petition.id)) };
  }

  /** Updates of a petition the caller has already been allowed to see. */
  async forPetition(petition: Petition): Promise<UpdateWithEmail[]> {
    return this.withEmails(petition.id, await this.updates.listForPetition(petition.id));
  }

  async get(slug: string, id: number, viewer: User | null): Promise<{ petition: Petition; update: UpdateWithEmail }> {
    const petition = await this.petitions.getForViewer(slug, viewer);
    const update = await this.updates.find(petition.id, id);
    if (!update) throw updateNotFound();
    return { petition, update: (await this.withEmails(petition.id, [update]))[0]! };
  }

  async recentPublic(limit = 50): Promise<PublicUpdate[]> {
    return this.updates.listRecentPublic(limit);
  }

  /** Each update with the email to signers that went with it (one query for all of them). */
  private async withEmails(petitionId: number, updates: Update[]): Promise<UpdateWithEmail[]> {
    const broadcasts = await this.broadcasts.listForPetition(petitionId);
    return updates.map((u) => ({ ...u, email: broadcasts.find((b) => b.updateId === u.id) ?? null }));
  }

  private async storeImage(petition: Petition, user: User, image: Buffer): Promise<number> {
    const contentType = checkImage(image, 'image');
    return this.uploads.store({ petitionId: petition.id, contentType, bytes: image, createdBy: user.id }, this.clock());
  }

  private parse(input: unknown) {
    const parsed = UpdateInput.safeParse(input);
    if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    return parsed.data;
  }

  /** The petition, if the user may post to it: its owners and editors, once it is published. */
  private async campaignable(user: User, slug: string): Promise<Petition> {
    const view = await this.petitions.viewFor(slug, user);
    authorize(view.actor, 'campaign', view.petition, this.petitions.options);
    if (view.petition.state !== 'open' && view.petition.state !== 'closed') {
      throw new AppError('invalid_state_transition', 'Updates can be posted once the petition is published.');
    }
    return view.petition;
  }
}

function updateNotFound(): AppError {
  return new AppError('not_found', 'There is no such update on this petition.');
}
