import type { Language } from '../../i18n/i18n.ts';
import { AppError, validationError } from '../../lib/errors.ts';
import type { Clock } from '../../lib/time.ts';
import { TokenSigner } from '../../lib/tokens.ts';
import { authorize } from '../petitions/petition-policy.ts';
import { fieldErrorsFrom, type Petition, type PetitionsService } from '../petitions/petitions.service.ts';
import { checkImage, type UploadsRepository } from '../uploads/uploads.ts';
import type { User } from '../users/users.service.ts';
import { EndorsementInput, EndorserQuoteInput, InviteEndorserInput } from './endorsements.schema.ts';
import type { Endorsement, EndorsementsRepository } from './endorsements.repository.ts';

export const ENDORSER_INVITATION_JOB = 'endorsement.invitation';

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
  return parsed.data;
}

/**
 * Endorsements ("Supported by"): added by the team or written by the endorsers themselves
 * through an emailed link; moderators can mark them verified.
 */
export class EndorsementsService {
  readonly endorserTokens: TokenSigner;

  constructor(
    private readonly endorsements: EndorsementsRepository,
    private readonly uploads: UploadsRepository,
    private readonly petitions: PetitionsService,
    private readonly clock: Clock,
    secretKey: string,
    private readonly onJobQueued: () => void = () => {},
  ) {
    this.endorserTokens = new TokenSigner(secretKey, 'endorser-invitation');
  }

  /** Endorsements shown to the public: all but invitations not yet answered. */
  async publicList(petition: Petition): Promise<Endorsement[]> {
    return (await this.endorsements.list(petition.id)).filter((e) => !e.invitedEmail);
  }

  /** Everything, for the team's management page. */
  async teamList(user: User, slug: string): Promise<{ petition: Petition; endorsements: Endorsement[] }> {
    const petition = await this.team(user, slug);
    return { petition, endorsements: await this.endorsements.list(petition.id) };
  }

  async add(user: User, slug: string, input: unknown, image?: Buffer | null): Promise<Endorsement> {
    const petition = await this.team(user, slug);
    const data = parse(EndorsementInput, input);
    const imageUploadId = image?.length ? await this.storeImage(petition, user, image) : null;
    const id = await this.endorsements.insert(
      petition.id,
      { ...data, imageUploadId, invitedEmail: null },
      (endorsementId) => ({ audit: [{ actorId: user.id, petitionId: petition.id, action: 'endorsement.added', details: { id: endorsementId, name: data.name } }] }),
      this.clock(),
    );
    return (await this.endorsements.find(petition.id, id))!;
  }

  async edit(user: User, slug: string, id: number, input: unknown, image?: Buffer | null): Promise<Endorsement> {
    const petition = await this.team(user, slug);
    const data = parse(EndorsementInput, input);
    const imageUploadId = image?.length ? await this.storeImage(petition, user, image) : undefined;
    const changed = await this.endorsements.update(
      petition.id,
      id,
      { ...data, ...(imageUploadId !== undefined ? { imageUploadId } : {}), verifiedAt: null },
      { audit: [{ actorId: user.id, petitionId: petition.id, action: 'endorsement.edited', details: { id, name: data.name } }] },
      this.clock(),
    );
    if (!changed) throw notFound();
    return (await this.endorsements.find(petition.id, id))!;
  }

  async remove(user: User, slug: string, id: number): Promise<void> {
    const petition = await this.team(user, slug);
    const removed = await this.endorsements.delete(petition.id, id, { audit: [{ actorId: user.id, petitionId: petition.id, action: 'endorsement.removed', details: { id } }] }, this.clock());
    if (!removed) throw notFound();
  }

  async move(user: User, slug: string, id: number, direction: 'up' | 'down'): Promise<void> {
    const petition = await this.team(user, slug);
    if (!(await this.endorsements.find(petition.id, id))) throw notFound();
    await this.endorsements.move(petition.id, id, direction, this.clock());
  }

  /** A moderator confirms the endorsement really comes from who it names. */
  async setVerified(user: User, slug: string, id: number, verified: boolean): Promise<Endorsement> {
    const view = await this.petitions.viewFor(slug, user);
    authorize(view.actor, 'verify_endorsement', view.petition, this.petitions.options);
    const changed = await this.endorsements.update(
      view.petition.id,
      id,
      { verifiedAt: verified ? this.clock().toISOString() : null },
      { audit: [{ actorId: user.id, petitionId: view.petition.id, action: verified ? 'endorsement.verified' : 'endorsement.unverified', details: { id } }] },
      this.clock(),
    );
    if (!changed) throw notFound();
    return (await this.endorsements.find(view.petition.id, id))!;
  }

  /** Invites someone by email to write their own statement of support. */
  async invite(user: User, slug: string, input: unknown, language: Language = 'en'): Promise<Endorsement> {
    const petition = await this.team(user, slug);
    const data = parse(InviteEndorserInput, input);
    const id = await this.endorsements.insert(
      petition.id,
      { kind: data.kind, name: data.name, role: data.role, organisation: data.organisation, quote: null, url: null, imageUploadId: null, invitedEmail: data.email },
      (endorsementId) => ({
        audit: [{ actorId: user.id, petitionId: petition.id, action: 'endorsement.invited', details: { id: endorsementId, email: data.email } }],
        jobs: [{ kind: ENDORSER_INVITATION_JOB, payload: { endorsementId, language } }],
      }),
      this.clock(),
    );
    this.onJobQueued();
    return (await this.endorsements.find(petition.id, id))!;
  }

  /** The invitation a link stands for, while it is unanswered. */
  async invitationFor(token: string): Promise<{ endorsement: Endorsement; petition: Petition }> {
    const id = this.endorserTokens.verify(token);
    const endorsement = id === null ? null : await this.endorsements.findById(id);
    const petition = endorsement?.invitedEmail ? await this.petitions.getById(endorsement.petitionId) : null;
    if (!endorsement || !petition) throw new AppError('not_found', 'This invitation has been answered already, or the link is not valid.');
    return { endorsement, petition };
  }

  /** The endorser's own statement, through the emailed link; it then appears on the petition. */
  async answerInvitation(token: string, input: unknown): Promise<Petition> {
    const { endorsement, petition } = await this.invitationFor(token);
    const data = parse(EndorserQuoteInput, input);
    await this.endorsements.update(
      petition.id,
      endorsement.id,
      { quote: data.quote, url: data.url, invitedEmail: null },
      { audit: [{ actorId: null, petitionId: petition.id, action: 'endorsement.written_by_endorser', details: { id: endorsement.id, name: endorsement.name } }] },
      this.clock(),
    );
    return petition;
  }

  invitationUrl(baseUrl: string, endorsementId: number): string {
    return `${baseUrl}/endorse/${this.endorserTokens.sign(endorsementId)}`;
  }

  async findById(id: number): Promise<Endorsement | null> {
    return this.endorsements.findById(id);
  }

  private async storeImage(petition: Petition, user: User, image: Buffer): Promise<number> {
    return this.uploads.store({ petitionId: petition.id, contentType: checkImage(image, 'image'), bytes: image, createdBy: user.id }, this.clock());
  }

  private async team(user: User, slug: string): Promise<Petition> {
    const view = await this.petitions.viewFor(slug, user);
    authorize(view.actor, 'campaign', view.petition, this.petitions.options);
    return view.petition;
  }
}

function notFound(): AppError {
  return new AppError('not_found', 'There is no such endorsement on this petition.');
}
