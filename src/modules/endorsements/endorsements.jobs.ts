import { languageOf, localisedUrl, t, withLanguage } from '../../i18n/i18n.ts';
import { petitionText } from '../petitions/petition-text.ts';
import type { JobHandler } from '../../jobs/worker.ts';
import { composeEmail, truncate } from '../../mail/compose.ts';
import type { Mailer } from '../../mail/mailer.ts';
import type { PetitionsService } from '../petitions/petitions.service.ts';
import { ENDORSER_INVITATION_JOB, type EndorsementsService } from './endorsements.service.ts';

/** Emails someone invited to endorse a petition a link to write their own statement. */
export function endorsementJobHandlers(deps: { endorsements: EndorsementsService; petitions: PetitionsService; mailer: Mailer; baseUrl: string; siteName: string }): Record<string, JobHandler> {
  return {
    [ENDORSER_INVITATION_JOB]: async (payload) => {
      const endorsement = await deps.endorsements.findById(Number(payload.endorsementId));
      if (!endorsement?.invitedEmail) return;
      const petition = await deps.petitions.getById(endorsement.petitionId);
      if (!petition) return;
      // The invitee has no account: the invitation is in the language of whoever sent it.
      await deps.mailer.send(
        withLanguage(languageOf(payload.language), () => {
          const { title } = petitionText(petition);
          return composeEmail({
            to: endorsement.invitedEmail!,
            subject: t('endorse_email.subject', { title: truncate(title, 60) }),
            greeting: t('email.dear', { name: endorsement.name }),
            paragraphs: [
              t('endorse_email.would_like', { title }),
              t('endorse_email.read', { url: localisedUrl(deps.petitions.urlFor(petition)) }),
              t('endorse_email.write'),
              localisedUrl(deps.endorsements.invitationUrl(deps.baseUrl, endorsement.id)),
              t('endorse_email.decline'),
            ],
            siteName: deps.siteName,
          });
        }),
      );
    },
  };
}
