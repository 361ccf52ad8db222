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
          composeEmail({
            to: owner.email,
            subject: published
              ? `Your petition is published: ${truncate(petition.title)}`
              : `Your petition was not published: ${truncate(petition.title)}`,
            greeting: `Dear ${owner.name},`,
            paragraphs: published
              ? [
                  `Good news: a moderator has checked your petition "${petition.title}" and it is now open for signatures.`,
                  `Share it widely: ${url}`,
                ]
              : [
                  `A moderator has checked your petition "${petition.title}" and could not publish it.`,
                  `Reason: ${petition.rejection?.label ?? 'not given'}.`,
                  ...(petition.rejection?.details ? [`The moderator adds: ${petition.rejection.details}`] : []),
                  `You can change it and submit it again: ${url}/edit`,
                ],
            siteName: deps.siteName,
          }),
        );
      }
    },
  };
}
