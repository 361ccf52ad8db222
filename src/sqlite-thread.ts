/**
 * The entry of the SQLite threads (see src/db/sqlite-thread.ts): opens its own connection to the
 * database file, with the same pragmas as the web thread's (WAL, `synchronous = FULL`), and runs
 * the tasks sent to it. The writer gets the hot-path batches (signatures, the job worker's claims
 * and outcomes), one transaction each, answering after the commit; the reader, the long reads of
 * a whole petition (fraud review, exports), streams among them.
 */
import BetterSqlite3 from 'better-sqlite3';
import { workerData } from 'node:worker_threads';
import { openDatabase } from './db/database.ts';
import { counterShards } from './db/dialect.ts';
import type { SqliteStream, SqliteTask, SqliteThreadData } from './db/sqlite-thread.ts';
import { answerTasks } from './lib/task-thread.ts';
import { claimDueJobs, readJobsOverview, writeJobOutcomes, type JobOutcome } from './jobs/jobs.repository.ts';
import { countConfirmedByPostcode, signaturesForExport } from './modules/handin/handin.repository.ts';
import { readNthConfirmationTime } from './modules/milestones/milestones.ts';
import { countValidMatches, findValidMatches, readFraudReport, readMatchingPage, type FraudReportLimits, type SignatureCriteria } from './modules/safety/fraud.repository.ts';
import { confirmSignatureBatch, recordSignatureBatch, type SignatureToConfirm, type SignatureToRecord } from './modules/signatures/signatures.repository.ts';

const { path, journalsInMemory, cacheKb } = workerData as SqliteThreadData;
const db = openDatabase({ kind: 'sqlite', path }, { writerThread: false, journalsInMemory, cacheKb });
const knownWordings = new Map<string, number>();
const shards = counterShards('sqlite');

type Scan = { petitionId: number; criteria: SignatureCriteria };

/** The queries the reader streams (SqliteThread.stream), compiled by Kysely. */
const streamQueries: Record<SqliteStream, (input: never) => { sql: string; parameters: readonly unknown[] }> = {
  'handin.signatures': ({ petitionId }: { petitionId: number }) => signaturesForExport(db, petitionId).compile(),
};
/** Open streams: each on a read-only connection of its own, so the thread's tasks go on beside it. */
const streams = new Map<number, { connection: BetterSqlite3.Database; rows: IterableIterator<unknown> }>();
let nextStream = 1;

function closeStream(streamId: number): void {
  const stream = streams.get(streamId);
  if (!stream) return;
  streams.delete(streamId);
  stream.rows.return?.();
  stream.connection.close();
}

const tasks: Record<SqliteTask, (input: never) => Promise<unknown>> = {
  'signatures.record': (batch: SignatureToRecord[]) => recordSignatureBatch(db.kysely, batch, knownWordings),
  'signatures.confirm': (batch: SignatureToConfirm[]) => confirmSignatureBatch(db.kysely, shards, batch),
  'jobs.claim': ({ now, lockMs, limit, running }: { now: Date; lockMs: number; limit: number; running: number[] }) => claimDueJobs(db.kysely, 'sqlite', now, lockMs, limit, running),
  'jobs.outcomes': (batch: JobOutcome[]) => writeJobOutcomes(db.kysely, batch),
  // The reader thread's (Db.reader): reads only.
  'fraud.report': ({ petitionId, limits }: { petitionId: number; limits: FraudReportLimits }) => readFraudReport(db, petitionId, limits),
  'fraud.page': ({ petitionId, criteria, limit, offset }: Scan & { limit: number; offset: number }) => readMatchingPage(db, petitionId, criteria, limit, offset),
  'fraud.count': ({ petitionId, criteria }: Scan) => countValidMatches(db, petitionId, criteria),
  'fraud.ids': ({ petitionId, criteria }: Scan) => findValidMatches(db, petitionId, criteria),
  'handin.areas': ({ petitionId }: { petitionId: number }) => countConfirmedByPostcode(db, petitionId),
  'milestones.nth': ({ petitionId, n }: { petitionId: number; n: number }) => readNthConfirmationTime(db, petitionId, n),
  'jobs.overview': ({ now, givenUpShown }: { now: Date; givenUpShown: number }) => readJobsOverview(db.kysely, now, givenUpShown),
  'stream.open': async ({ name, input }: { name: SqliteStream; input: never }) => {
    const { sql, parameters } = streamQueries[name](input);
    const connection = new BetterSqlite3(path, { readonly: true });
    try {
      if (cacheKb) connection.pragma(`cache_size = -${Math.round(cacheKb)}`);
      const streamId = nextStream++;
      // Rows as arrays, the column names once: cheaper to pass between threads than objects.
      const statement = connection.prepare(sql).raw(true);
      streams.set(streamId, { connection, rows: statement.iterate(...parameters) });
      return { streamId, columns: statement.columns().map((c) => c.name) };
    } catch (err) {
      connection.close();
      throw err;
    }
  },
  'stream.next': async ({ streamId, max }: { streamId: number; max: number }) => {
    const stream = streams.get(streamId);
    if (!stream) throw new Error(`no open stream ${streamId}`);
    const rows: unknown[] = [];
    while (rows.length < max) {
      const next = stream.rows.next();
      if (next.done) break;
      rows.push(next.value);
    }
    if (rows.length < max) closeStream(streamId);
    return rows;
  },
  'stream.close': async ({ streamId }: { streamId: number }) => closeStream(streamId),
};

answerTasks(tasks);
