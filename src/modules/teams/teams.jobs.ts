import { languageOf, localisedUrl, t, withLanguage } from '../../i18n/i18n.ts';
import { petitionText } from '../petitions/petition-text.ts';
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


export function teamJobHandlers(deps: TeamJobDeps): Record<string, JobHandler> {
  return {
    [INVITATION_JOB]: async (payload) => {
      const invitation = await deps.teams.findInvitation(Number(payload.invitationId));
      if (!invitation || invitation.acceptedAt || invitation.revokedAt) return;
      const petition = await deps.petitions.getById(invitation.petitionId);
      if (!petition) return;
      const inviter = invitation.invitedBy ? await deps.users.findRowById(invitation.invitedBy) : null;
      // The invitee may have no account yet: the invitation is in the language of whoever sent it.
      await deps.mailer.send(
        withLanguage(languageOf(inviter?.language), () => {
          const { title } = petitionText(petition);
          return composeEmail({
            to: invitation.email,
            subject: t('team_email.subject', { title: truncate(title) }),
            greeting: t('team_email.hello'),
            paragraphs: [
              t(`team_email.invites_${invitation.role}`, { inviter: inviter?.name ?? t('team_email.the_owner'), title }),
              t('team_email.accept'),
              localisedUrl(deps.teams.invitationUrl(deps.baseUrl, invitation.id)),
              t('team_email.expires'),
            ],
            siteName: deps.siteName,
          });
        }),
      );
    },
  };
}
