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
import { fileURLToPath } from 'node:url';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

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

/** What the thread answers for one task. */
export type SqliteThreadReply = { id: number; result: unknown } | { id: number; error: { name: string; message: string; code?: string; stack?: string } };

/** An error thrown in a SQLite thread, as the caller sees it (with SQLite's code, if any). */
export class SqliteThreadError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'SqliteThreadError';
  }
}

// In the sources this file is src/db/sqlite-thread.ts and the thread's entry src/sqlite-thread.ts;
// in the built dist/ both are bundled beside each other (scripts/build.js).
const ENTRY = import.meta.url.endsWith('.ts') ? new URL('../sqlite-thread.ts', import.meta.url) : new URL('./sqlite-thread.js', import.meta.url);
// Found from here, not from the working directory, as bin/undersign.js does.
const TSX_API = import.meta.url.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : '';
const TSCONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));

/**
 * A worker thread with its own connection to one SQLite file, started on first use. `run` sends a
 * named task and its input (structured-cloned: plain data and Dates) and resolves with the
 * task's result once the thread has committed it. A process has two: the writer (the hot-path
 * batches) and the reader (long reports; see Db.reader).
 */
export class SqliteThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private closed = false;

  private readonly heapMb: number;
  private readonly idleMs: number | null;
  private readonly journalsInMemory: boolean;
  private readonly cacheKb: number | undefined;
  /** Streams open on the thread: it is not stopped for being idle while one is (see stream). */
  private openStreams = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly path: string,
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
    this.heapMb = options.heapMb ?? 48;
    this.idleMs = options.idleMs ?? null;
    this.journalsInMemory = options.journalsInMemory ?? false;
    this.cacheKb = options.cacheKb;
  }

  /** Whether the thread is up now (it starts on the first task, and stops when closed or idle). */
  get isRunning(): boolean {
    return this.worker !== null;
  }

  /** Runs `task` on the thread; settles after its transaction committed or failed. */
  run<Result>(task: SqliteTask, input: unknown): Promise<Result> {
    if (this.closed) return Promise.reject(new Error('the database is closed'));
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<Result>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      // Keep the process alive only while an answer is awaited.
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, task, input });
    });
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
        if (!this.closed) await this.run('stream.close', { streamId }).catch(() => {});
      }
    } finally {
      this.openStreams--;
    }
  }

  /** Stops the thread after the tasks sent so far have been answered. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.worker;
    if (!worker) return;
    while (this.pending.size > 0) await new Promise((r) => setTimeout(r, 5));
    this.worker = null;
    await worker.terminate();
  }

  /** What the thread's entry (src/sqlite-thread.ts) opens its connections with. */
  private workerData(): SqliteThreadData {
    return { path: this.path, journalsInMemory: this.journalsInMemory, cacheKb: this.cacheKb };
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    // From the sources (tests, `tsx`), the thread first registers tsx's loader, which worker
    // threads do not inherit; the built files load as they are.
    const worker = ENTRY.pathname.endsWith('.ts')
      ? new Worker(
          `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register({ tsconfig: ${JSON.stringify(TSCONFIG)} }); return import(${JSON.stringify(ENTRY.href)}); });`,
          { eval: true, workerData: this.workerData() },
        )
      : // A small heap keeps the process within its memory budget.
        new Worker(ENTRY, { workerData: this.workerData(), resourceLimits: { maxOldGenerationSizeMb: this.heapMb, maxYoungGenerationSizeMb: 8 } });
    worker.unref();
    worker.on('message', (reply: SqliteThreadReply) => this.settle(reply));
    // A thread that dies (it should not) fails what it held; the next task starts a new one.
    const fail = (err: unknown) => {
      // A thread stopped on purpose (closed, or idle) had answered everything: what waits now is the next thread's.
      if (this.worker !== worker) return;
      this.worker = null;
      const waiting = [...this.pending.values()];
      this.pending.clear();
      for (const p of waiting) p.reject(err instanceof Error ? err : new Error(`the SQLite thread stopped (${String(err)})`));
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.pending.size > 0) fail(new Error(`the SQLite thread exited with code ${code}`));
      else if (this.worker === worker) this.worker = null;
    });
    this.worker = worker;
    return worker;
  }

  private stopIdle(): void {
    this.idleTimer = null;
    const worker = this.worker;
    if (!worker || this.pending.size > 0 || this.openStreams > 0) return;
    this.worker = null;
    void worker.terminate();
  }

  private settle(reply: SqliteThreadReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) {
      this.worker?.unref();
      if (this.idleMs !== null) {
        this.idleTimer = setTimeout(() => this.stopIdle(), this.idleMs);
        this.idleTimer.unref();
      }
    }
    if ('error' in reply) {
      const err = new SqliteThreadError(reply.error.message, reply.error.code);
      if (reply.error.stack) err.stack = `${err.name}: ${reply.error.message}\n    (in a SQLite thread)\n${reply.error.stack.split('\n').slice(1).join('\n')}`;
      waiting.reject(err);
    } else waiting.resolve(reply.result);
  }
}
