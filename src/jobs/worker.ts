import type { Logger } from 'pino';
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
  /** Jobs claimed (and run concurrently) per round. */
  batchSize?: number;
  /** How long a claimed job stays locked before another worker may take it over. */
  lockMs?: number;
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
  private readonly batchSize: number;
  private readonly lockMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private wakeAgain = false;
  private periodicTimers: NodeJS.Timeout[] = [];
  private periodicRuns = new Set<Promise<void>>();

  constructor(private readonly options: JobWorkerOptions) {
    this.pollMs = options.pollMs ?? 1000;
    this.batchSize = options.batchSize ?? 20;
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

  /** Stops polling and waits for the round in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const timer of this.periodicTimers.splice(0)) clearInterval(timer);
    await Promise.all([this.running, ...this.periodicRuns]);
  }

  /** Asks for a round now, e.g. right after a job was enqueued in this process. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
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

  /** Claims one batch of due jobs and runs them; returns how many were claimed. */
  async runOnce(): Promise<number> {
    const { jobs, clock, log } = this.options;
    const claimed = await jobs.claimDue(clock(), this.lockMs, this.batchSize);
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
      await jobs.markDone(job.id, clock());
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const now = clock();
      // A job may ask to be picked up again at once (long work done in slices) without it counting as a failure.
      const retryInMs = (err as { retryInMs?: unknown }).retryInMs;
      if (typeof retryInMs === 'number') {
        await jobs.reschedule(job, new Date(now.getTime() + retryInMs));
        return;
      }
      log.warn({ jobId: job.id, kind: job.kind, attempt: job.attempts, err: message }, 'job failed');
      await jobs.markFailed(job, message, now, new Date(now.getTime() + retryDelayMs(job.attempts)));
    }
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    this.timer = null;
    if (this.stopped || this.running) return;
    let claimed = 0;
    this.running = (async () => {
      try {
        claimed = await this.runOnce();
      } catch (err) {
        this.options.log.error({ err }, 'job round failed');
      }
    })();
    await this.running;
    this.running = null;
    const again = this.wakeAgain || claimed === this.batchSize;
    this.wakeAgain = false;
    this.schedule(again ? 0 : this.pollMs);
  }
}
