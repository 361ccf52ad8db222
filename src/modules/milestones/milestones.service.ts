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
    private readonly options: { siteName: string; responseThreshold: number; debateThreshold: number; moderators: () => Promise<{ name: string; email: string }[]> },
  ) {}

  async list(petition: Petition): Promise<Milestone[]> {
    return this.milestones.list(petition.id);
  }

  /** Records every milestone passed since the last sweep; returns how many were new. */
  async detect(): Promise<number> {
    let found = 0;
    const now = this.clock();
    for (const { id, goal, count } of await this.milestones.countsToCheck()) {
      const recorded = await this.milestones.recorded(id);
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
        const threshold = Number(payload.threshold).toLocaleString('en-GB');
        if (payload.kind === 'response' || payload.kind === 'debate') {
          // Thresholds are for the moderators, who see that the decision-maker responds (or a debate is considered).
          for (const moderator of await this.options.moderators()) {
            await this.mailer.send(
              composeEmail({
                to: moderator.email,
                subject: `${payload.kind === 'response' ? 'Response due' : 'Debate threshold'}: ${truncate(petition.title)}`,
                greeting: `Dear ${moderator.name},`,
                paragraphs: [
                  payload.kind === 'response'
                    ? `The petition "${petition.title}" has passed ${threshold} signatures. It now awaits a response from ${petition.target.name}.`
                    : `The petition "${petition.title}" has passed ${threshold} signatures and is to be considered for debate.`,
                  this.petitions.urlFor(petition),
                ],
                siteName: this.options.siteName,
              }),
            );
          }
          return;
        }
        const goal = payload.kind === 'goal';
        for (const owner of (await this.teams.listMembers(petition.id)).filter((m) => m.role === 'owner')) {
          await this.mailer.send(
            composeEmail({
              to: owner.email,
              subject: goal ? `Goal reached: ${truncate(petition.title)}` : `${threshold} signatures: ${truncate(petition.title)}`,
              greeting: `Dear ${owner.name},`,
              paragraphs: [
                goal
                  ? `Your petition "${petition.title}" has reached its goal of ${threshold} signatures. Congratulations!`
                  : `Your petition "${petition.title}" has passed ${threshold} confirmed signatures.`,
                'A good moment to post an update and thank your supporters:',
                `${this.petitions.urlFor(petition)}/updates/new`,
              ],
              siteName: this.options.siteName,
            }),
          );
        }
      },
    };
  }
}
