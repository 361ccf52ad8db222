/**
 * The SQLite threads. better-sqlite3 runs every statement synchronously, so on the web process's
 * own thread a signing batch (its inserts and the commit's fsync) stops every other request for
 * as long as it runs, and so does a read that scans a petition of millions of signatures.
 * - The writer: the hot-path batches (signing and confirming, and the job worker's claims and
 *   outcomes, which run as often as emails go out) on a second connection to the same file, with
 *   `synchronous = FULL` as before. Callers still hear back only after the commit.
 * - The reader: reads of a whole petition (fraud review, exports; see Db.reader), on a third.
 * Meanwhile the web thread goes on reading requests and pages. Their tasks are registered in the
 * threads' entry, src/sqlite-thread.ts.
 *
 * Only for a database file: an in-memory database cannot be shared between connections, so
 * there everything runs on the caller's connection as before.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TaskThread, TaskThreadError } from '../lib/task-thread.ts';

/** What a SQLite thread is started with (its workerData). */
export interface SqliteThreadData {
  path: string;
  journalsInMemory: boolean;
  cacheKb: number | undefined;
}

/** The functions a thread runs, by name (registered in src/sqlite-thread.ts): the writer's batches, the reader's reports. */
export type SqliteTask = 'signatures.record' | 'signatures.confirm' | 'jobs.claim' | 'jobs.outcomes' | 'fraud.report' | 'fraud.page' | 'fraud.count' | 'fraud.ids' | 'handin.areas' | 'milestones.nth' | 'jobs.overview' | 'stream.open' | 'stream.next' | 'stream.close';

/** The queries a thread can stream (see SqliteThread.stream), by name (built in src/sqlite-thread.ts). */
export type SqliteStream = 'handin.signatures';

/** An error thrown in a SQLite thread, as the caller sees it (with SQLite's code, if any). */
export { TaskThreadError as SqliteThreadError };

// In the sources this file is src/db/sqlite-thread.ts and the thread's entry src/sqlite-thread.ts;
// in the built dist/ both are bundled beside each other (scripts/build.js).
const ENTRY = import.meta.url.endsWith('.ts') ? new URL('../sqlite-thread.ts', import.meta.url) : new URL('./sqlite-thread.js', import.meta.url);

/**
 * A worker thread with its own connection to one SQLite file, started on first use. `run` sends a
 * named task and its input (structured-cloned: plain data and Dates) and resolves with the
 * task's result once the thread has committed it. A process has two: the writer (the hot-path
 * batches) and the reader (long reports; see Db.reader).
 */
export class SqliteThread extends TaskThread<SqliteTask> {
  /** Streams open on the thread: it is not stopped for being idle while one is (see stream). */
  private openStreams = 0;

  constructor(
    path: string,
    options: {
      /** The thread's V8 old-generation limit: a writer's batch is at most a few hundred rows. */
      heapMb?: number;
      /** Stop the thread after this long without a task (its memory back to the process); the next task starts another. */
      idleMs?: number;
      /** The writer's connection keeps its statement journals in memory (see DialectOptions.journalsInMemory). */
      journalsInMemory?: boolean;
      /** The page cache of the thread's connections, in KiB (see DialectOptions.cacheKb). */
      cacheKb?: number;
    } = {},
  ) {
    const workerData: SqliteThreadData = { path, journalsInMemory: options.journalsInMemory ?? false, cacheKb: options.cacheKb };
    super({ name: 'the SQLite thread', entry: ENTRY, workerData, heapMb: options.heapMb, idleMs: options.idleMs });
  }

  /**
   * Streams the rows of a long query (a petition's signatures, for an export), `chunk` at a time:
   * the thread runs it on a read connection of its own and sends the next chunk when asked, so
   * neither the sort before the first row nor the reading holds up the web thread or its
   * connection. Stopping early (a download cancelled) closes the query.
   */
  async *stream<Row>(name: SqliteStream, input: unknown, chunk = 1000): AsyncGenerator<Row> {
    this.openStreams++;
    try {
      const { streamId, columns } = await this.run<{ streamId: number; columns: string[] }>('stream.open', { name, input });
      try {
        const ask = () => {
          const asked = this.run<unknown[][]>('stream.next', { streamId, max: chunk });
          asked.catch(() => {}); // awaited below; handled here in case the reader stops early
          return asked;
        };
        let asked = ask();
        for (;;) {
          const rows = await asked;
          const more = rows.length === chunk;
          // The next chunk is read on the thread while these rows are used here.
          if (more) asked = ask();
          for (const values of rows) {
            const row: Record<string, unknown> = {};
            for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i];
            yield row as Row;
          }
          if (!more) return;
          // With the next chunk already here, the consumer would go on without a break: let other requests in.
          await nextTurn();
        }
      } finally {
        await this.run('stream.close', { streamId }).catch(() => {});
      }
    } finally {
      this.openStreams--;
    }
  }

  protected override holdsState(): boolean {
    return this.openStreams > 0;
  }
}
