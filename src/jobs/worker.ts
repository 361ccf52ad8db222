import type { Logger } from 'pino';
import { withoutEmailAddresses } from '../lib/redact.ts';
import type { JobRow } from '../db/schema.ts';
import type { Clock } from '../lib/time.ts';
import type { JobsRepository } from './jobs.repository.ts';

/** Runs one job. Throwing makes the job retry with backoff; returning marks it done. */
export type JobHandler = (payload: Record<string, unknown>, job: JobRow) => Promise<void>;

export interface JobWorkerOptions {
  jobs: JobsRepository;
  handlers: Record<string, JobHandler>;
  log: Logger;
  clock: Clock;
  /** How often to look for due jobs when nothing nudged the worker. */
  pollMs?: number;
  /**
   * The most jobs running at once. The worker claims more as they finish, so that a slow one (an
   * SMTP relay taking its time over one message) does not hold the others back.
   */
  concurrency?: number;
  /** How long a claimed job stays locked before another worker may take it over. */
  lockMs?: number;
  /**
   * True while the process is busy answering visitors (the worker shares it with the site; see
   * VisitorRate). The worker then runs at most a tenth of `concurrency` jobs at once, so that at
   * a peak the site's answers come first; the queued jobs (durable) catch up after it.
   */
  busy?: () => boolean;
  /** Housekeeping run every so often (closing petitions at their deadline…); each must be safe to run from several processes at once. */
  periodic?: PeriodicTask[];
}

export interface PeriodicTask {
  name: string;
  everyMs: number;
  run: () => Promise<unknown>;
}

/** Delay before retry number `attempt` (1-based): 30 s doubling to at most an hour, with jitter. */
export function retryDelayMs(attempt: number): number {
  const base = Math.min(30_000 * 2 ** Math.max(0, attempt - 1), 3_600_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * Polls the jobs table and runs due jobs. Several workers, in one process or many, can run
 * against the same database: claiming is atomic, and a job whose worker died is taken over
 * when its lock expires.
 */
export class JobWorker {
  private readonly pollMs: number;
  private readonly concurrency: number;
  private readonly lockMs: number;
  private timer: NodeJS.Timeout | null = null;
  /** The claim in progress, if any: one at a time per worker. */
  private claiming: Promise<void> | null = null;
  /**
   * Jobs claimed by the background loop and not yet finished, by id (a job running past its lock
   * is not claimed again by this worker).
   */
  private readonly active = new Map<number, Promise<void>>();
  private stopped = true;
  private wakeAgain = false;
  private periodicTimers: NodeJS.Timeout[] = [];
  private periodicRuns = new Set<Promise<void>>();
  /** Jobs this worker finished, by kind: done, or failed (for the site's metrics). */
  readonly finished = new Map<string, { done: number; failed: number }>();

  constructor(private readonly options: JobWorkerOptions) {
    this.pollMs = options.pollMs ?? 1000;
    this.concurrency = options.concurrency ?? 20;
    this.lockMs = options.lockMs ?? 5 * 60_000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
    for (const task of this.options.periodic ?? []) {
      let busy = false;
      const runTask = () => {
        if (busy || this.stopped) return;
        busy = true;
        const run = task
          .run()
          .catch((err) => this.options.log.error({ err, task: task.name }, 'periodic task failed'))
          .then(() => {
            busy = false;
            this.periodicRuns.delete(run);
          });
        this.periodicRuns.add(run);
      };
      runTask();
      const timer = setInterval(runTask, task.everyMs);
      timer.unref?.();
      this.periodicTimers.push(timer);
    }
  }

  /** Stops polling and waits for the jobs in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const timer of this.periodicTimers.splice(0)) clearInterval(timer);
    // A claim that was under way starts its jobs when it returns (they are locked to this worker):
    // wait for those too.
    while (this.claiming || this.active.size > 0) await Promise.all([this.claiming, ...this.active.values()]);
    await Promise.all(this.periodicRuns);
  }

  /** Asks for a claim now, e.g. right after a job was enqueued in this process. */
  nudge(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.wakeAgain = true;
      return;
    }
    this.schedule(0);
  }

  /** Runs rounds until no job is due; returns how many jobs ran. For tests and the CLI. */
  async drain(maxRounds = 100): Promise<number> {
    let total = 0;
    for (let round = 0; round < maxRounds; round++) {
      const ran = await this.runOnce();
      total += ran;
      if (ran === 0) break;
    }
    return total;
  }

  /** Claims up to `concurrency` due jobs and runs them to the end; returns how many were claimed. */
  async runOnce(): Promise<number> {
    const { jobs, clock, log } = this.options;
    const claimed = await jobs.claimDue(clock(), this.lockMs, this.concurrency);
    await Promise.all(claimed.map((job) => this.runJob(job)));
    if (claimed.length > 0) log.debug({ count: claimed.length }, 'jobs ran');
    return claimed.length;
  }

  private async runJob(job: JobRow): Promise<void> {
    const { jobs, handlers, clock, log } = this.options;
    try {
      const handler = handlers[job.kind];
      if (!handler) throw new Error(`no handler for job kind "${job.kind}"`);
      await handler(JSON.parse(job.payload) as Record<string, unknown>, job);
      await jobs.markDone(job.id);
      this.tally(job.kind).done++;
    } catch (err) {
      // Kept as the job's last error and logged: without the address a relay's refusal names.
      const message = withoutEmailAddresses(err instanceof Error ? err.message : String(err));
      const now = clock();
      // A job may ask to be picked up again at once (long work done in slices) without it counting as a failure.
      const retryInMs = (err as { retryInMs?: unknown }).retryInMs;
      if (typeof retryInMs === 'number') {
        await jobs.reschedule(job, new Date(now.getTime() + retryInMs));
        return;
      }
      log.warn({ jobId: job.id, kind: job.kind, attempt: job.attempts, err: message }, 'job failed');
      this.tally(job.kind).failed++;
      await jobs.markFailed(job, message, now, new Date(now.getTime() + retryDelayMs(job.attempts)));
    }
  }

  private tally(kind: string): { done: number; failed: number } {
    let counts = this.finished.get(kind);
    if (!counts) {
      counts = { done: 0, failed: 0 };
      this.finished.set(kind, counts);
    }
    return counts;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref?.();
  }

  /**
   * One turn of the background loop: claims as many due jobs as there are free places and starts
   * them. It claims again as soon as half the places are free (not when every job of a batch has
   * finished), and polls after `pollMs` when nothing was due.
   */
  private async tick(): Promise<void> {
    this.timer = null;
    const limit = this.limit();
    const free = limit - this.active.size;
    if (this.stopped || this.claiming || free < Math.ceil(limit / 2)) return;
    let claimed: JobRow[] = [];
    this.claiming = (async () => {
      try {
        claimed = await this.options.jobs.claimDue(this.options.clock(), this.lockMs, free, [...this.active.keys()]);
      } catch (err) {
        this.options.log.error({ err }, 'claiming jobs failed');
      }
    })();
    await this.claiming;
    this.claiming = null;
    for (const job of claimed) {
      const run: Promise<void> = this.runJob(job)
        // Only writing the outcome can fail here (the database gone): the job's lock runs out and another run takes it.
        .catch((err: unknown) => this.options.log.error({ err, jobId: job.id }, 'recording a job outcome failed'))
        .then(() => {
          this.active.delete(job.id);
          // Half the places free: claim the next jobs while the others are still running.
          if (this.active.size <= Math.floor(this.limit() / 2) && !this.timer && !this.claiming) this.schedule(0);
        });
      this.active.set(job.id, run);
    }
    const again = this.wakeAgain || claimed.length === free;
    this.wakeAgain = false;
    // A full claim means more may be waiting: the jobs' completions ask again when places free up.
    if (!again) this.schedule(this.pollMs);
    else if (limit - this.active.size >= Math.ceil(limit / 2)) this.schedule(0);
  }

  /** Jobs that may run at once now: fewer while the process is busy with visitors. */
  private limit(): number {
    return this.options.busy?.() ? Math.ceil(this.concurrency / 10) : this.concurrency;
  }
}
