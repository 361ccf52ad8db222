import { languageOf, localisedUrl, t, withLanguage } from '../../i18n/i18n.ts';
import { petitionText, rejectionLabel } from './petition-text.ts';
import type { JobHandler } from '../../jobs/worker.ts';
import { composeEmail, truncate } from '../../mail/compose.ts';
import type { Mailer } from '../../mail/mailer.ts';
import type { TeamsRepository } from '../teams/teams.repository.ts';
import { MODERATION_NOTICE_JOB, type PetitionsService } from './petitions.service.ts';

export interface PetitionJobDeps {
  petitions: PetitionsService;
  teams: TeamsRepository;
  mailer: Mailer;
  siteName: string;
}

/** Emails the petition's owners the moderator's decision. */
export function petitionJobHandlers(deps: PetitionJobDeps): Record<string, JobHandler> {
  return {
    [MODERATION_NOTICE_JOB]: async (payload) => {
      const petition = await deps.petitions.getById(Number(payload.petitionId));
      if (!petition) return;
      const owners = (await deps.teams.listMembers(petition.id)).filter((m) => m.role === 'owner');
      const url = deps.petitions.urlFor(petition);
      const published = payload.decision === 'published';
      for (const owner of owners) {
        await deps.mailer.send(
          withLanguage(languageOf(owner.language), () => {
            const { title } = petitionText(petition);
            return composeEmail({
              to: owner.email,
              subject: t(published ? 'moderation_email.published_subject' : 'moderation_email.rejected_subject', { title: truncate(title) }),
              greeting: t('email.dear', { name: owner.name }),
              paragraphs: published
                ? [t('moderation_email.published', { title }), t('moderation_email.share', { url: localisedUrl(url) })]
                : [
                    t('moderation_email.rejected', { title }),
                    t('moderation_email.reason', { reason: (petition.rejection ? rejectionLabel(petition.rejection).label : t('moderation_email.no_reason')) }),
                    ...(petition.rejection?.details ? [t('moderation_email.details', { details: petition.rejection.details })] : []),
                    t('moderation_email.change', { url: localisedUrl(`${url}/edit`) }),
                  ],
              siteName: deps.siteName,
            });
          }),
        );
      }
    },
  };
}
