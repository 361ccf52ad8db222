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
      await deps.mailer.send(
        composeEmail({
          to: endorsement.invitedEmail,
          subject: `Will you support the petition “${truncate(petition.title, 60)}”?`,
          greeting: `Dear ${endorsement.name},`,
          paragraphs: [
            `The team behind the petition "${petition.title}" would like to show your support on its page.`,
            `Read the petition: ${deps.petitions.urlFor(petition)}`,
            'If you support it, write a short statement here (it is published with your name):',
            deps.endorsements.invitationUrl(deps.baseUrl, endorsement.id),
            'If you would rather not, ignore this email and nothing is published.',
          ],
          siteName: deps.siteName,
        }),
      );
    },
  };
}
