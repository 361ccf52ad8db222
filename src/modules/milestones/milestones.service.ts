import { languageOf, localisedUrl, t, withLanguage } from '../../i18n/i18n.ts';
import { formatNumber } from '../../views/components.tsx';
import { petitionText } from '../petitions/petition-text.ts';
import type { JobHandler } from '../../jobs/worker.ts';
import { composeEmail, truncate } from '../../mail/compose.ts';
import type { Mailer } from '../../mail/mailer.ts';
import type { Clock } from '../../lib/time.ts';
import type { Petition, PetitionsService } from '../petitions/petitions.service.ts';
import type { TeamsRepository } from '../teams/teams.repository.ts';
import { webhookEvent } from '../webhooks/events.ts';
import { MILESTONE_JOB, milestoneThresholds, type Milestone, type MilestonesRepository } from './milestones.ts';

/** Finds milestones as counts grow (in the worker), and tells the petition's owners. */
export class MilestonesService {
  constructor(
    private readonly milestones: MilestonesRepository,
    private readonly petitions: PetitionsService,
    private readonly teams: TeamsRepository,
    private readonly mailer: Mailer,
    private readonly clock: Clock,
    private readonly options: { siteName: string; responseThreshold: number; debateThreshold: number; moderators: () => Promise<{ name: string; email: string; language: string }[]> },
  ) {}

  async list(petition: Petition): Promise<Milestone[]> {
    return this.milestones.list(petition.id);
  }

  /** Records every milestone passed since the last sweep; returns how many were new. */
  async detect(): Promise<number> {
    let found = 0;
    const now = this.clock();
    // Closed within the last week: milestones passed just before the close are still recorded,
    // even after the workers were down for days.
    const candidates = await this.milestones.countsToCheck(new Date(now.getTime() - 7 * 86_400_000));
    const recordedBy = await this.milestones.recorded(candidates.map((c) => c.id));
    for (const { id, goal, count } of candidates) {
      const recorded = recordedBy.get(id)!;
      const due: { kind: 'count' | 'goal' | 'response' | 'debate'; threshold: number }[] = milestoneThresholds(count)
        .filter((t) => !recorded.has(`count:${t}`))
        .map((threshold) => ({ kind: 'count' as const, threshold }));
      if (goal && count >= goal && !recorded.has(`goal:${goal}`)) due.push({ kind: 'goal', threshold: goal });
      for (const [kind, threshold] of [['response', this.options.responseThreshold], ['debate', this.options.debateThreshold]] as const) {
        if (count >= threshold && !recorded.has(`${kind}:${threshold}`)) due.push({ kind, threshold });
      }
      // When several are passed at once, the owners hear about the biggest (and the goal), not each.
      const highestCount = Math.max(0, ...due.filter((d) => d.kind === 'count').map((d) => d.threshold));
      for (const milestone of due) {
        const reachedAt = (await this.milestones.nthConfirmationTime(id, milestone.threshold)) ?? now.toISOString();
        const notify = milestone.kind !== 'count' || milestone.threshold === highestCount;
        const added = await this.milestones.record(
          id,
          milestone.kind,
          milestone.threshold,
          reachedAt,
          {
            audit: [{ actorId: null, petitionId: id, action: 'milestone.reached', details: milestone }],
            jobs: [...(notify ? [{ kind: MILESTONE_JOB, payload: { petitionId: id, ...milestone } }] : []), webhookEvent('milestone.reached', id, { ...milestone, reached_at: reachedAt })],
          },
          now,
        );
        if (added) found++;
      }
    }
    return found;
  }

  jobHandlers(): Record<string, JobHandler> {
    return {
      [MILESTONE_JOB]: async (payload) => {
        const petition = await this.petitions.getById(Number(payload.petitionId));
        if (!petition) return;
        if (payload.kind === 'response' || payload.kind === 'debate') {
          // Thresholds are for the moderators, who see that the decision-maker responds (or a debate is considered).
          for (const moderator of await this.options.moderators()) {
            await this.mailer.send(
              withLanguage(languageOf(moderator.language), () => {
                const { title } = petitionText(petition);
                const threshold = formatNumber(Number(payload.threshold));
                return composeEmail({
                  to: moderator.email,
                  subject: t(payload.kind === 'response' ? 'milestone_email.response_subject' : 'milestone_email.debate_subject', { title: truncate(title) }),
                  greeting: t('email.dear', { name: moderator.name }),
                  paragraphs: [
                    t(payload.kind === 'response' ? 'milestone_email.response' : 'milestone_email.debate', { title, n: threshold, target: petition.target.name }),
                    localisedUrl(this.petitions.urlFor(petition)),
                  ],
                  siteName: this.options.siteName,
                });
              }),
            );
          }
          return;
        }
        const goal = payload.kind === 'goal';
        for (const owner of (await this.teams.listMembers(petition.id)).filter((m) => m.role === 'owner')) {
          await this.mailer.send(
            withLanguage(languageOf(owner.language), () => {
              const { title } = petitionText(petition);
              const threshold = formatNumber(Number(payload.threshold));
              return composeEmail({
                to: owner.email,
                subject: t(goal ? 'milestone_email.goal_subject' : 'milestone_email.count_subject', { title: truncate(title), n: threshold }),
                greeting: t('email.dear', { name: owner.name }),
                paragraphs: [
                  t(goal ? 'milestone_email.goal' : 'milestone_email.count', { title, n: threshold }),
                  t('milestone_email.post_update'),
                  localisedUrl(`${this.petitions.urlFor(petition)}/updates/new`),
                ],
                siteName: this.options.siteName,
              });
            }),
          );
        }
      },
    };
  }
}
