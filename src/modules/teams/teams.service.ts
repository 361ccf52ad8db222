import type { MemberRole } from '../../db/schema.ts';
import { AppError, validationError } from '../../lib/errors.ts';
import type { Clock } from '../../lib/time.ts';
import { TokenSigner } from '../../lib/tokens.ts';
import { authorize } from '../petitions/petition-policy.ts';
import { fieldErrorsFrom, type Petition, type PetitionsService } from '../petitions/petitions.service.ts';
import type { User } from '../users/users.service.ts';
import { ChangeRoleInput, InviteInput, RemoveMemberInput } from './teams.schema.ts';
import type { Invitation, TeamMember, TeamsRepository } from './teams.repository.ts';

export const INVITATION_JOB = 'team.invitation';
export const INVITATION_TTL_MS = 14 * 24 * 3600 * 1000;

export interface Team {
  petition: Petition;
  members: TeamMember[];
  invitations: Invitation[];
}

/** Petition teams: owners invite people by email as owner, editor or viewer; always one owner at least. */
export class TeamsService {
  readonly invitationTokens: TokenSigner;

  constructor(
    private readonly teams: TeamsRepository,
    private readonly petitions: PetitionsService,
    private readonly clock: Clock,
    secretKey: string,
    private readonly onJobQueued: () => void = () => {},
  ) {
    this.invitationTokens = new TokenSigner(secretKey, 'team-invitation');
  }

  async getTeam(user: User, slug: string): Promise<Team> {
    const view = await this.petitions.viewFor(slug, user);
    authorize(view.actor, 'view_team', view.petition, this.petitions.options);
    const [members, invitations] = await Promise.all([
      this.teams.listMembers(view.petition.id),
      this.teams.listOpenInvitations(view.petition.id, this.clock().toISOString()),
    ]);
    return { petition: view.petition, members, invitations };
  }

  /** Invites someone by email; they join when they follow the emailed link while signed in as that address. */
  async invite(user: User, slug: string, input: unknown): Promise<Invitation> {
    const view = await this.manageable(user, slug);
    const parsed = InviteInput.safeParse(input);
    if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    const { email, role } = parsed.data;
    const members = await this.teams.listMembers(view.petition.id);
    if (members.some((m) => m.email === email)) {
      throw new AppError('validation_failed', 'This person is already on the team; change their role instead', { field: 'email' });
    }
    const now = this.clock();
    const id = await this.teams.createInvitation(
      {
        petitionId: view.petition.id,
        email,
        role,
        invitedBy: user.id,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + INVITATION_TTL_MS).toISOString(),
      },
      (invitationId) => ({
        audit: [{ actorId: user.id, petitionId: view.petition.id, action: 'team.invited', details: { email, role } }],
        jobs: [{ kind: INVITATION_JOB, payload: { invitationId } }],
      }),
      now,
    );
    this.onJobQueued();
    return (await this.teams.findInvitation(id))!;
  }

  /** The invitation a link stands for, if it is still open. */
  async invitationForToken(token: string): Promise<{ invitation: Invitation; petition: Petition }> {
    const id = this.invitationTokens.verify(token);
    const invitation = id === null ? null : await this.teams.findInvitation(id);
    const usable = invitation && !invitation.acceptedAt && !invitation.revokedAt && invitation.expiresAt > this.clock().toISOString();
    const petition = usable ? await this.petitions.getById(invitation.petitionId) : null;
    if (!usable || !petition) {
      throw new AppError('not_found', 'This invitation is not valid any more: it was used, withdrawn or has expired. Ask the petition’s owner for a new one.');
    }
    return { invitation, petition };
  }

  /** Accepts an invitation for the signed-in user, who must be the address it was sent to. */
  async acceptInvitation(user: User, token: string): Promise<Petition> {
    const { invitation, petition } = await this.invitationForToken(token);
    if (invitation.email !== user.email.toLowerCase()) {
      throw new AppError('forbidden', `This invitation was sent to ${invitation.email}. Sign in with that address to accept it.`);
    }
    const accepted = await this.teams.acceptInvitation(
      invitation.id,
      user.id,
      { audit: [{ actorId: user.id, petitionId: petition.id, action: 'team.joined', details: { role: invitation.role } }] },
      this.clock(),
    );
    if (!accepted) throw new AppError('not_found', 'This invitation is not valid any more.');
    return petition;
  }

  async changeRole(user: User, slug: string, input: unknown): Promise<void> {
    const view = await this.manageable(user, slug);
    const parsed = ChangeRoleInput.safeParse(input);
    if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    const member = await this.memberByEmail(view.petition.id, parsed.data.email);
    await this.applyRole(user, view.petition, member, parsed.data.role);
  }

  /** Removes a member, or withdraws an open invitation to that address. Members may also leave. */
  async removeMember(user: User, slug: string, input: unknown): Promise<void> {
    const parsed = RemoveMemberInput.safeParse(input);
    if (!parsed.success) throw validationError(fieldErrorsFrom(parsed.error.issues));
    const { email } = parsed.data;
    const leaving = email === user.email.toLowerCase();
    const view = leaving ? await this.petitions.viewFor(slug, user) : await this.manageable(user, slug);
    const petitionId = view.petition.id;
    const now = this.clock();
    const members = await this.teams.listMembers(petitionId);
    const member = members.find((m) => m.email === email);
    if (member) {
      const removed = await this.teams.removeMember(
        petitionId,
        member.userId,
        { audit: [{ actorId: user.id, petitionId, action: leaving ? 'team.left' : 'team.removed', details: { email, role: member.role } }] },
        now,
      );
      if (!removed) throw new AppError('not_found', 'That person is not on the team.', { field: 'email' });
      return;
    }
    if (leaving) throw new AppError('not_found', 'You are not on this team.', { field: 'email' });
    const invitation = (await this.teams.listOpenInvitations(petitionId, now.toISOString())).find((i) => i.email === email);
    if (!invitation) throw new AppError('not_found', 'Nobody with that address is on the team or invited.', { field: 'email' });
    await this.teams.revokeInvitation(
      invitation.id,
      { audit: [{ actorId: user.id, petitionId, action: 'team.invitation_withdrawn', details: { email } }] },
      now,
    );
  }

  /** The link an invited person follows. */
  invitationUrl(baseUrl: string, invitationId: number): string {
    return `${baseUrl}/invitations/${this.invitationTokens.sign(invitationId)}`;
  }

  async findInvitation(id: number): Promise<Invitation | null> {
    return this.teams.findInvitation(id);
  }

  private async applyRole(user: User, petition: Petition, member: TeamMember, role: MemberRole): Promise<void> {
    if (member.role === role) return;
    await this.teams.changeRole(
      petition.id,
      member.userId,
      role,
      { audit: [{ actorId: user.id, petitionId: petition.id, action: 'team.role_changed', details: { email: member.email, from: member.role, to: role } }] },
      this.clock(),
    );
  }

  private async memberByEmail(petitionId: number, email: string): Promise<TeamMember> {
    const member = (await this.teams.listMembers(petitionId)).find((m) => m.email === email);
    if (!member) throw new AppError('not_found', 'That person is not on the team.', { field: 'email' });
    return member;
  }

  private async manageable(user: User, slug: string) {
    const view = await this.petitions.viewFor(slug, user);
    authorize(view.actor, 'manage_team', view.petition, this.petitions.options);
    return view;
  }
}
