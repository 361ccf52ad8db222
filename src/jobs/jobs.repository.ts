import { sql, type Kysely, type Transaction } from 'kysely';
import { letOtherWritersIn, scanOnReader, type Db } from '../db/database.ts';
import { batchConcurrency, dialectOf, rowChunks, type DialectKind } from '../db/dialect.ts';
import { GroupCommit } from '../db/group-commit.ts';
import type { Database, JobRow } from '../db/schema.ts';

export interface NewJob {
  kind: string;
  payload: Record<string, unknown>;
  runAt?: Date;
  maxAttempts?: number;
  /**
   * Runs ahead of every job already due: someone is waiting for it on a page (a big petition's
   * fraud review), while a surge can leave tens of thousands of confirmation emails queued.
   * Claims take the earliest `run_at` first, so an urgent job is stored as due since
   * {@link URGENT_RUN_AT}. A retry after a failure waits its turn like any other.
   */
  urgent?: boolean;
}

/** The `run_at` of an urgent job: before any other job's. */
export const URGENT_RUN_AT = new Date(0);

/** Given-up jobs queued again in one transaction (see JobsRepository.retryGivenUp). */
export const RETRY_CHUNK = 1000;

/** Adds jobs in the caller's transaction, 500 to a statement (see JobsRepository.enqueueMany). */
export async function insertJobs(trx: Kysely<Database> | Transaction<Database>, jobs: NewJob[], now: Date): Promise<void> {
  for (const chunk of rowChunks(dialectOf(trx), jobs, 500)) {
    await trx
      .insertInto('jobs')
      .values(
        chunk.map((job) => ({
          kind: job.kind,
          payload: JSON.stringify(job.payload),
          state: 'pending' as const,
          attempts: 0,
          max_attempts: job.maxAttempts ?? 8,
          run_at: (job.urgent ? URGENT_RUN_AT : (job.runAt ?? now)).toISOString(),
          created_at: now.toISOString(),
        })),
      )
      .execute();
  }
}

/** One kind of job in the admin's overview (JobsRepository.overview). */
export interface JobKindOverview {
  kind: string;
  waiting: number;
  due: number;
  running: number;
  dead: number;
  /** When the longest-due waiting job became due (ISO), or null when none is due. */
  dueSince: string | null;
}

/** A job given up after all its attempts, as stored (see readJobsOverview). */
export type GivenUpJobRow = Pick<JobRow, 'id' | 'kind' | 'attempts' | 'last_error' | 'finished_at'>;

/** What the admin's overview reads (see readJobsOverview). */
export interface JobsOverviewRows {
  kinds: JobKindOverview[];
  givenUp: GivenUpJobRow[];
}

/**
 * The admin's overview of the jobs table (JobsRepository.overview): per kind, those waiting, due,
 * running and given up, and when the longest-due one became due, counted from when it was queued
 * for an urgent job (stored as due since 1970); and the `givenUpShown` jobs given up most
 * recently. Also run by the SQLite reader thread.
 */
export async function readJobsOverview(db: Kysely<Database>, now: Date, givenUpShown: number): Promise<JobsOverviewRows> {
  const nowIso = now.toISOString();
  const due = sql<boolean>`state = 'pending' and run_at <= ${nowIso}`;
  const rows = await db
    .selectFrom('jobs')
    .select((eb) => [
      'kind',
      eb.fn.sum<number>(sql`case when state = 'pending' then 1 else 0 end`).as('waiting'),
      eb.fn.sum<number>(sql`case when ${due} then 1 else 0 end`).as('due'),
      eb.fn.sum<number>(sql`case when state = 'running' then 1 else 0 end`).as('running'),
      eb.fn.sum<number>(sql`case when state = 'dead' then 1 else 0 end`).as('dead'),
      eb.fn.min<string | null>(sql`case when ${due} then (case when run_at > created_at then run_at else created_at end) end`).as('due_since'),
    ])
    .groupBy('kind')
    .orderBy('kind')
    .execute();
  // After a relay's long outage at a peak the given-up ones are tens of thousands, all sorted
  // here: one more reason to keep this off the web thread.
  const givenUp = givenUpShown === 0 ? [] : await db
    .selectFrom('jobs')
    .select(['id', 'kind', 'attempts', 'last_error', 'finished_at'])
    .where('state', '=', 'dead')
    .orderBy('finished_at', 'desc')
    .orderBy('id', 'desc')
    .limit(givenUpShown)
    .execute();
  return {
    kinds: rows.map((r) => ({
      kind: r.kind,
      waiting: Number(r.waiting),
      due: Number(r.due),
      running: Number(r.running),
      dead: Number(r.dead),
      dueSince: r.due_since === null || r.due_since === undefined ? null : new Date(r.due_since).toISOString(),
    })),
    givenUp,
  };
}

/** How a run ended, written back to the job's row (see writeJobOutcomes). Plain data, so that it can cross to the SQLite writer thread. */
export type JobOutcome =
  | { kind: 'done'; id: number }
  | { kind: 'failed'; job: JobRow; error: string; now: Date; retryAt: Date }
  | { kind: 'rescheduled'; job: JobRow; runAt: Date };

/**
 * Claims up to `limit` due jobs: pending ones whose time has come, and running ones whose lock
 * expired (their worker died). On PostgreSQL concurrent workers skip each other's rows (FOR
 * UPDATE SKIP LOCKED); SQLite has a single writer, so the update is atomic. Runs on the web
 * thread's connection or on the SQLite writer thread's (src/sqlite-thread.ts).
 */
export async function claimDueJobs(db: Kysely<Database>, kind: DialectKind, now: Date, lockMs: number, limit: number, running: number[] = []): Promise<JobRow[]> {
  const nowIso = now.toISOString();
  const lockedUntil = new Date(now.getTime() + lockMs).toISOString();
  return db.transaction().execute(async (trx) => {
    // Two searches, each along the (state, run_at) index, rather than one with OR: with tens of
    // thousands of jobs waiting, the OR collected and sorted every due row (4.5 ms a claim on
    // SQLite, inside the write lock) to return twenty.
    const lock = <Q extends { forUpdate(): { skipLocked(): Q } }>(q: Q): Q => (kind === 'postgres' ? q.forUpdate().skipLocked() : q);
    // Jobs of a worker that died first (a handful at most), so a backlog cannot hold them back.
    // Not those the claiming worker is still running itself (past their lock, but not dead).
    let expiredQuery = trx.selectFrom('jobs').select('id').where('state', '=', 'running').where('locked_until', '<', nowIso);
    if (running.length > 0) expiredQuery = expiredQuery.where('id', 'not in', running);
    const expired = await lock(expiredQuery.orderBy('locked_until').limit(limit)).execute();
    const pending =
      expired.length < limit
        ? await lock(trx.selectFrom('jobs').select('id').where('state', '=', 'pending').where('run_at', '<=', nowIso).orderBy('run_at').limit(limit - expired.length)).execute()
        : [];
    const ids = [...expired, ...pending].map((r) => r.id);
    if (ids.length === 0) return [];
    return trx
      .updateTable('jobs')
      .set((eb) => ({ state: 'running', locked_until: lockedUntil, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', ids)
      .returningAll()
      .execute();
  });
}

/**
 * Writes the outcomes of jobs that finished together in one transaction. Runs on either
 * connection, like claimDueJobs.
 */
export async function writeJobOutcomes(db: Kysely<Database>, batch: JobOutcome[]): Promise<void[]> {
  await db.transaction().execute(async (trx) => {
    // A job done leaves no row: a confirmation email's took ~190 bytes (with its index entry) on
    // either database, so ten million signatures would have left ~1.9 GB of them. The jobs that
    // finished at once go in one statement.
    const done: number[] = [];
    for (const outcome of batch) {
      if (outcome.kind === 'done') {
        done.push(outcome.id);
      } else if (outcome.kind === 'failed') {
        const { job, error, now, retryAt } = outcome;
        const dead = job.attempts >= job.max_attempts;
        await trx
          .updateTable('jobs')
          .set({
            state: dead ? 'dead' : 'pending',
            run_at: dead ? job.run_at : retryAt.toISOString(),
            locked_until: null,
            last_error: error.slice(0, 2000),
            finished_at: dead ? now.toISOString() : null,
          })
          .where('id', '=', job.id)
          .execute();
      } else {
        await trx
          .updateTable('jobs')
          .set((eb) => ({ state: 'pending', run_at: outcome.runAt.toISOString(), locked_until: null, attempts: eb('attempts', '-', 1) }))
          .where('id', '=', outcome.job.id)
          .execute();
      }
    }
    for (const chunk of rowChunks(dialectOf(trx), done, 500)) {
      await trx.deleteFrom('jobs').where('id', 'in', chunk).execute();
    }
  });
  return batch.map(() => undefined);
}

/** The outbox table. Jobs are enqueued inside the caller's transaction so they commit with the change. */
export class JobsRepository {
  /**
   * The outcomes of jobs that finish at about the same moment (a round's emails) are written in
   * one transaction: on SQLite each write transaction is an fsync and a turn of the one write
   * lock, which the signing batches also need (on a SQLite file they go to the writer thread,
   * like the claims). Each caller still waits for its own commit.
   */
  private readonly outcomes: GroupCommit<JobOutcome, void>;

  constructor(private readonly db: Db) {
    const writer = db.writer;
    this.outcomes = new GroupCommit(
      writer ? (batch) => writer.run<void[]>('jobs.outcomes', batch) : (batch) => writeJobOutcomes(db.kysely, batch),
      { maxBatch: 200, concurrency: batchConcurrency(db.kind) },
    );
  }

  /** Adds a job; pass the open transaction so the job commits (or not) with the data it is about. */
  enqueue(trx: Kysely<Database> | Transaction<Database>, job: NewJob, now: Date): Promise<void> {
    return this.enqueueMany(trx, [job], now);
  }

  /** Adds several jobs in one statement (a batch of signatures' confirmation emails). */
  enqueueMany(trx: Kysely<Database> | Transaction<Database>, jobs: NewJob[], now: Date): Promise<void> {
    return insertJobs(trx, jobs, now);
  }

  /**
   * Claims up to `limit` due jobs for this process: pending ones whose time has come, and running
   * ones whose lock expired (their worker died), except `running`: the claiming worker's own jobs
   * still in progress, which it must not start a second time. On PostgreSQL concurrent workers
   * skip each other's rows (FOR UPDATE SKIP LOCKED); SQLite has a single writer, so the update is
   * atomic.
   */
  claimDue(now: Date, lockMs: number, limit: number, running: number[] = []): Promise<JobRow[]> {
    const writer = this.db.writer;
    // On a SQLite file the claim is a write: it goes to the writer thread, queued with the signing
    // batches, instead of waiting for the write lock and its fsync on the web thread.
    return writer ? writer.run<JobRow[]>('jobs.claim', { now, lockMs, limit, running }) : claimDueJobs(this.db.kysely, this.db.kind, now, lockMs, limit, running);
  }

  /** Marks a job done: its row goes (see writeJobOutcomes). */
  markDone(id: number): Promise<void> {
    return this.outcomes.submit({ kind: 'done', id });
  }

  /** Records a failure: the job runs again at `retryAt`, or is given up (`dead`) when it has no attempts left. */
  markFailed(job: JobRow, error: string, now: Date, retryAt: Date): Promise<void> {
    return this.outcomes.submit({ kind: 'failed', job, error, now, retryAt });
  }

  /** Puts a job back in the queue for `runAt` without counting the run as an attempt. */
  reschedule(job: JobRow, runAt: Date): Promise<void> {
    return this.outcomes.submit({ kind: 'rescheduled', job, runAt });
  }

  /**
   * Each kind of job: how many wait (and how many of those are due), run, and were given up, and
   * since when the longest-due one has waited; and the `givenUpShown` jobs given up most recently,
   * newest first (see readJobsOverview). It reads the whole table (450 ms for a surge's 300,000
   * queued emails on SQLite), so on a SQLite file it runs on the reader thread: an
   * administrator's look must not stop signing at the moment they look.
   */
  overview(now: Date, givenUpShown: number): Promise<JobsOverviewRows> {
    return scanOnReader(this.db, 'jobs.overview', { now, givenUpShown }, () => readJobsOverview(this.db.kysely, now, givenUpShown));
  }

  /**
   * When the longest-due waiting job became due (ISO), or null when none is due: how far the
   * workers are behind. Urgent jobs (due since 1970) are left out. One seek along the
   * (state, run_at) index, cheap enough for a signer's page.
   */
  async oldestDue(now: Date): Promise<string | null> {
    const row = await this.db.kysely
      .selectFrom('jobs')
      .select((eb) => eb.fn.min('run_at').as('due'))
      .where('state', '=', 'pending')
      .where('run_at', '>', URGENT_RUN_AT.toISOString())
      .where('run_at', '<=', now.toISOString())
      .executeTakeFirst();
    return row?.due ? new Date(row.due).toISOString() : null;
  }

  /**
   * Queues again, due now and with all their attempts, the given-up jobs of one kind (once what
   * made them fail is mended: a mail relay back up). `record` runs in the first transaction with
   * how many there are (the audit line). Returns how many were queued again.
   *
   * In transactions of RETRY_CHUNK jobs, other writers let in between them: after a relay's
   * outage at a peak they are tens of thousands, and one UPDATE of 100,000 held SQLite's write
   * lock for a quarter of a second, with signing waiting behind it (see letOtherWritersIn).
   */
  async retryGivenUp(kind: string, now: Date, record: (trx: Transaction<Database>, retried: number) => Promise<void>): Promise<number> {
    const ids = (await this.db.kysely.selectFrom('jobs').select('id').where('state', '=', 'dead').where('kind', '=', kind).orderBy('id').execute()).map((r) => r.id);
    let retried = 0;
    for (let i = 0; i < ids.length; i += RETRY_CHUNK) {
      retried += await this.db.kysely.transaction().execute(async (trx) => {
        if (i === 0) await record(trx, ids.length);
        const result = await trx
          .updateTable('jobs')
          .set({ state: 'pending', attempts: 0, run_at: now.toISOString(), locked_until: null, finished_at: null })
          .where('state', '=', 'dead')
          .where('kind', '=', kind)
          // A range rather than a list of ids: one statement for every chunk (SQLite prepares and
          // keeps a statement for each distinct list length).
          .where('id', '>=', ids[i]!)
          .where('id', '<=', ids[Math.min(i + RETRY_CHUNK, ids.length) - 1]!)
          .executeTakeFirst();
        return Number(result.numUpdatedRows);
      });
      await letOtherWritersIn();
    }
    return retried;
  }

  /** Deletes up to `limit` jobs given up before `before` (ISO); returns how many. */
  async forgetGivenUpBefore(before: string, limit: number): Promise<number> {
    // Along the (state, run_at) index to the given-up ones: few, but the table may hold a surge's emails.
    const result = await this.db.kysely
      .deleteFrom('jobs')
      .where('id', 'in', (eb) => eb.selectFrom('jobs').select('id').where('state', '=', 'dead').where('finished_at', '<', before).orderBy('id').limit(limit))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async countByState(): Promise<Record<string, number>> {
    const rows = await this.db.kysely
      .selectFrom('jobs')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('state')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }
}
