import type { JobHandler } from '../../jobs/worker.ts';
import { composeEmail, truncate } from '../../mail/compose.ts';
import type { Mailer } from '../../mail/mailer.ts';
import type { PetitionsService } from '../petitions/petitions.service.ts';
import type { UsersService } from '../users/users.service.ts';
import { INVITATION_JOB, type TeamsService } from './teams.service.ts';

export interface TeamJobDeps {
  teams: TeamsService;
  petitions: PetitionsService;
  users: UsersService;
  mailer: Mailer;
  baseUrl: string;
  siteName: string;
}

const ROLE_WORDS = { owner: 'an owner', editor: 'an editor', viewer: 'a viewer' } as const;

export function teamJobHandlers(deps: TeamJobDeps): Record<string, JobHandler> {
  return {
    [INVITATION_JOB]: async (payload) => {
      const invitation = await deps.teams.findInvitation(Number(payload.invitationId));
      if (!invitation || invitation.acceptedAt || invitation.revokedAt) return;
      const petition = await deps.petitions.getById(invitation.petitionId);
      if (!petition) return;
      const inviter = invitation.invitedBy ? await deps.users.findRowById(invitation.invitedBy) : null;
      await deps.mailer.send(
        composeEmail({
          to: invitation.email,
          subject: `Join the team of the petition: ${truncate(petition.title)}`,
          greeting: 'Hello,',
          paragraphs: [
            `${inviter?.name ?? 'The petition’s owner'} invites you to help run the petition "${petition.title}" as ${ROLE_WORDS[invitation.role]}.`,
            'To accept, follow this link and sign in (or sign up) with this email address:',
            deps.teams.invitationUrl(deps.baseUrl, invitation.id),
            'The invitation expires in 14 days. If you were not expecting it, ignore this email.',
          ],
          siteName: deps.siteName,
        }),
      );
    },
  };
}
