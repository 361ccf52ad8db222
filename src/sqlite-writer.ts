/**
 * The SQLite writer thread's entry (see src/db/writer-thread.ts): opens its own connection to the
 * database file, with the same pragmas as the web thread's (WAL, `synchronous = FULL`), and runs
 * the batches sent to it (signatures, and the job worker's claims and outcomes), one transaction
 * each, answering after the commit.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './db/database.ts';
import { counterShards } from './db/dialect.ts';
import type { WriterReply, WriterTask } from './db/writer-thread.ts';
import { claimDueJobs, writeJobOutcomes, type JobOutcome } from './jobs/jobs.repository.ts';
import { confirmSignatureBatch, recordSignatureBatch, type SignatureToConfirm, type SignatureToRecord } from './modules/signatures/signatures.repository.ts';

const { path } = workerData as { path: string };
const db = openDatabase({ kind: 'sqlite', path }, { writerThread: false });
const knownWordings = new Map<string, number>();
const shards = counterShards('sqlite');

const tasks: Record<WriterTask, (input: never) => Promise<unknown>> = {
  'signatures.record': (batch: SignatureToRecord[]) => recordSignatureBatch(db.kysely, batch, knownWordings),
  'signatures.confirm': (batch: SignatureToConfirm[]) => confirmSignatureBatch(db.kysely, shards, batch),
  'jobs.claim': ({ now, lockMs, limit }: { now: Date; lockMs: number; limit: number }) => claimDueJobs(db.kysely, 'sqlite', now, lockMs, limit),
  'jobs.outcomes': (batch: JobOutcome[]) => writeJobOutcomes(db.kysely, batch),
};

parentPort!.on('message', async ({ id, task, input }: { id: number; task: WriterTask; input: never }) => {
  let reply: WriterReply;
  try {
    reply = { id, result: await tasks[task](input) };
  } catch (err) {
    const e = err as { name?: string; message?: string; code?: string; stack?: string };
    reply = { id, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), code: e?.code, stack: e?.stack } };
  }
  parentPort!.postMessage(reply);
});
