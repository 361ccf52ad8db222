import { letOtherWritersIn } from '../db/database.ts';
import { AppError, forbidden } from '../lib/errors.ts';
import { RecentResults } from '../lib/recent-results.ts';
import { withoutEmailAddresses } from '../lib/redact.ts';
import type { Clock } from '../lib/time.ts';
import type { AuditRepository } from '../modules/audit/audit.repository.ts';
import type { User } from '../modules/users/users.service.ts';
import type { JobKindOverview, JobsRepository } from './jobs.repository.ts';

/** A job given up, as an administrator sees it: the reason without anyone's email address. */
export interface GivenUpJob {
  id: number;
  kind: string;
  attempts: number;
  givenUpAt: string | null;
  error: string | null;
}

/** The last time given-up jobs were queued again (from the audit log). */
export interface JobsRetried {
  kind: string;
  jobs: number;
  at: string;
  /** The administrator's name; null when the operator did it (`undersign jobs retry`). */
  by: string | null;
}

export interface JobsOverview {
  now: string;
  kinds: JobKindOverview[];
  givenUp: GivenUpJob[];
  /** The latest "queue again" within GIVEN_UP_KEPT_DAYS, or null. */
  lastRetried: JobsRetried | null;
}

/** How many given-up jobs the overview lists. */
const GIVEN_UP_SHOWN = 20;
/**
 * Days a given-up job is kept, to be seen and queued again: past a month an email is no use to
 * its recipient, and its row still names a signature.
 */
export const GIVEN_UP_KEPT_DAYS = 30;
/** The audit log's action for given-up jobs queued again. */
const RETRIED_ACTION = 'jobs.retried';
/** How often minutesBehind reads the queue again (each signer's page asks). */
const BEHIND_READ_EVERY_MS = 5_000;
/** How often the metrics read the queue again (a read of the whole jobs table, whoever scrapes how often). */
const QUEUE_READ_EVERY_MS = 15_000;

/** One kind of job in the site's metrics (see JobsService.queue). */
export interface JobQueueReading {
  kind: string;
  waiting: number;
  due: number;
  running: number;
  givenUp: number;
  /** How long the longest-due job of the kind has waited, in seconds (0 when none is due). */
  oldestDueSeconds: number;
}

/**
 * The background work (emails, webhooks, findings) as the site's administrators see it: what
 * waits and how late, what was given up after all its attempts and why, and queuing those again
 * once the cause is mended. A confirmation email given up means a signer who cannot confirm.
 */
export class JobsService {
  /** When the longest-due job became due (ms), or null, read at most every BEHIND_READ_EVERY_MS. */
  private readonly dueSince: RecentResults<number | null>;
  private readonly queueReadings: RecentResults<JobKindOverview[]>;

  constructor(
    private readonly jobs: JobsRepository,
    private readonly audit: AuditRepository,
    private readonly clock: Clock,
    private readonly nudge: () => void,
  ) {
    this.dueSince = new RecentResults(BEHIND_READ_EVERY_MS, () => clock().getTime(), 1);
    this.queueReadings = new RecentResults(QUEUE_READ_EVERY_MS, () => clock().getTime(), 1);
  }

  /** Each kind of job's counts and lateness for the site's metrics, read at most every QUEUE_READ_EVERY_MS. */
  async queue(): Promise<JobQueueReading[]> {
    const kinds = await this.queueReadings.get('jobs', async () => (await this.jobs.overview(this.clock(), 0)).kinds);
    // The lateness as of now: a kept reading's jobs have waited longer since.
    const now = this.clock().getTime();
    return kinds.map((k) => ({
      kind: k.kind,
      waiting: k.waiting,
      due: k.due,
      running: k.running,
      givenUp: k.dead,
      oldestDueSeconds: k.dueSince === null ? 0 : Math.max(0, (now - Date.parse(k.dueSince)) / 1000),
    }));
  }

  /** Each kind of job's counts and lateness, and the jobs given up most recently. Administrators only. */
  async overview(user: User): Promise<JobsOverview> {
    assertAdmin(user);
    return this.overviewAsOperator();
  }

  /** The overview for the site's operator (`undersign jobs list`). */
  async overviewAsOperator(): Promise<JobsOverview> {
    const now = this.clock();
    const [{ kinds, givenUp }, retried] = await Promise.all([
      this.jobs.overview(now, GIVEN_UP_SHOWN),
      this.audit.latest(RETRIED_ACTION, new Date(now.getTime() - GIVEN_UP_KEPT_DAYS * 86_400_000).toISOString()),
    ]);
    return {
      now: now.toISOString(),
      kinds,
      givenUp: givenUp.map((j) => ({ id: j.id, kind: j.kind, attempts: j.attempts, givenUpAt: j.finished_at, error: j.last_error === null ? null : withoutEmailAddresses(j.last_error) })),
      lastRetried: retried ? { kind: String(retried.details.kind), jobs: Number(retried.details.jobs), at: retried.createdAt, by: retried.actorName } : null,
    };
  }

  /** Queues the given-up jobs of one kind again, due now; recorded in the audit log. Returns how many. */
  async retryGivenUp(user: User, kind: unknown): Promise<number> {
    assertAdmin(user);
    return this.retry(user.id, kind);
  }

  /** The same for the site's operator (`undersign jobs retry`), recorded as done by the system. */
  retryGivenUpAsOperator(kind: unknown): Promise<number> {
    return this.retry(null, kind);
  }

  /**
   * How many whole minutes the workers are behind (the longest-due job's wait), read at most every
   * few seconds: a signer's "check your email" page says so when emails are running late, rather
   * than leave them waiting for a link that is queued.
   */
  async minutesBehind(): Promise<number> {
    const now = this.clock();
    const dueSince = await this.dueSince.get('jobs', async () => {
      const due = await this.jobs.oldestDue(now);
      return due ? Date.parse(due) : null;
    });
    return dueSince === null ? 0 : Math.max(0, Math.floor((now.getTime() - dueSince) / 60_000));
  }

  /** Deletes the jobs given up more than GIVEN_UP_KEPT_DAYS ago (a periodic task of the worker). */
  async forgetOldGivenUp(): Promise<void> {
    const before = new Date(this.clock().getTime() - GIVEN_UP_KEPT_DAYS * 86_400_000).toISOString();
    while ((await this.jobs.forgetGivenUpBefore(before, 1000)) === 1000) await letOtherWritersIn();
  }

  private async retry(actorId: number | null, kind: unknown): Promise<number> {
    if (typeof kind !== 'string' || kind.length === 0 || kind.length > 100) throw new AppError('validation_failed', 'Choose a kind of job to retry.', { field: 'kind' });
    const now = this.clock();
    const retried = await this.jobs.retryGivenUp(kind, now, (trx, n) => this.audit.record(trx, { actorId, petitionId: null, action: RETRIED_ACTION, details: { kind, jobs: n } }, now));
    if (retried > 0) this.nudge();
    return retried;
  }
}

function assertAdmin(user: User): void {
  if (user.role !== 'admin') throw forbidden('Only administrators can see and retry the background work.');
}
