import { Kysely, Migrator, type Migration, type MigrationResultSet } from 'kysely';
import type { DatabaseLocation } from '../config.ts';
import { createDialect, type DialectKind, type DialectOptions } from './dialect.ts';
import { migrations } from './migrations/index.ts';
import type { Database } from './schema.ts';
import { SqliteThread, type SqliteStream, type SqliteTask } from './sqlite-thread.ts';

export interface Db {
  kysely: Kysely<Database>;
  kind: DialectKind;
  /**
   * SQLite on a file: the thread that commits signing and confirming batches on a connection of
   * its own (see sqlite-thread.ts), started on first use. Null for PostgreSQL and in-memory SQLite.
   */
  writer: SqliteThread | null;
  /**
   * SQLite on a file: a thread for reads of a whole petition (the fraud review, the hand-in pack
   * and the exports), so that their seconds of scanning do not stop the web thread, which
   * better-sqlite3's synchronous statements would, nor hold its one connection. It only reads:
   * in WAL mode it never holds up the writer. Started on first use; null where `writer` is.
   */
  reader: SqliteThread | null;
  /** PostgreSQL's connection pool, for the site's metrics (its counts only); null on SQLite. */
  pool: { readonly totalCount: number; readonly idleCount: number; readonly waitingCount: number } | null;
}

/** Opens a connection (pool) to the configured database. Close it with `closeDatabase`. */
export function openDatabase(location: DatabaseLocation, options: DialectOptions & { writerThread?: boolean } = {}): Db {
  const { kind, dialect, pool } = createDialect(location, options);
  const threads = options.writerThread !== false && location.kind === 'sqlite' && location.path !== ':memory:';
  return {
    kysely: new Kysely<Database>({ dialect }),
    kind,
    writer: threads ? new SqliteThread(location.path, { journalsInMemory: true }) : null,
    // A report holds a petition's sample of rows at once (50,000 rows, ~15 MB): a larger heap than
    // the writer's, given back a minute after the last report (reviews come in bursts of clicks).
    // Its reads scan a whole petition once, which a page cache barely helps (the OS keeps the file's
    // pages): 4 MB instead of 16 for each of its connections, and as much for an export's sort
    // before it spills (docs/performance.md, "2026-12-07, before midnight").
    reader: threads ? new SqliteThread(location.path, { heapMb: 64, idleMs: 60_000, cacheKb: 4096 }) : null,
    pool: pool ?? null,
  };
}

/**
 * Runs a read that scans many rows (seconds for a petition with millions of signatures): on a
 * SQLite file as `task` on the reader thread, so the web thread goes on serving meanwhile;
 * elsewhere (PostgreSQL, where the server does the work; in-memory SQLite) as `here` on this
 * connection. `task` must run the same function as `here` (registered in src/sqlite-thread.ts).
 */
export function scanOnReader<Result>(db: Db, task: SqliteTask, input: unknown, here: () => Promise<Result>): Promise<Result> {
  return db.reader ? db.reader.run<Result>(task, input) : here();
}

/**
 * Streams a long query's rows (see SqliteThread.stream): on a SQLite file from the reader thread,
 * elsewhere from `here` on this connection.
 */
export function streamOnReader<Row>(db: Db, name: SqliteStream, input: unknown, here: () => AsyncIterable<Row>): AsyncIterable<Row> {
  return db.reader ? db.reader.stream<Row>(name, input) : here();
}

/**
 * A millisecond's pause between two write transactions of a long piece of work (a sweep deleting
 * a thousand rows a transaction, thousands of given-up jobs queued again), in which another
 * connection waiting for SQLite's write lock takes it: such a wait retries every millisecond
 * (see withAsyncLockWait in dialect.ts; the writer thread's signing batches among them), and
 * transactions back to back kept it out. 100,000 jobs queued again in transactions of 1,000, a
 * second connection writing beside them: its longest wait 74–119 ms without the pause, 18–30 ms
 * with it (one UPDATE of all of them: 220 ms).
 */
export function letOtherWritersIn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

/** Closes the database: the threads once their tasks are answered, then the connections. */
export async function closeDatabase(db: Db): Promise<void> {
  await Promise.all([db.writer?.close(), db.reader?.close()]);
  await db.kysely.destroy();
}

/** Applies every pending migration; safe to run from several processes at once (the migrator takes a lock). */
export async function migrateToLatest(db: Db): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db: db.kysely,
    provider: { getMigrations: async () => migrations as Record<string, Migration> },
  });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return result;
}

/** True when the database answers a trivial query. */
export async function isDatabaseReachable(db: Db): Promise<boolean> {
  try {
    await db.kysely.selectNoFrom((eb) => eb.lit(1).as('ok')).execute();
    return true;
  } catch {
    return false;
  }
}
