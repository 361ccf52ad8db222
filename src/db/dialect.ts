/**
 * Every difference between SQLite and PostgreSQL lives in this file: connection set-up,
 * column types used by migrations, error codes, and the few query shapes that differ.
 */
import BetterSqlite3 from 'better-sqlite3';
import {
  type ColumnDataType,
  type ColumnDefinitionBuilder,
  type DatabaseConnection,
  type Kysely,
  type Dialect,
  PostgresAdapter,
  PostgresDialect,
  type RawBuilder,
  sql,
  SqliteDialect,
} from 'kysely';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { isIPv4 } from 'node:net';
import type { DatabaseLocation } from '../config.ts';
import type { SignatureStatus } from './schema.ts';

// The PostgreSQL driver loads only when a PostgreSQL database is used (about 15 MB a process
// that runs on SQLite does not need).
const require = createRequire(import.meta.url);
type Pg = typeof import('pg');
let pgModule: Pg | undefined;
const loadPg = (): Pg => (pgModule ??= require('pg') as Pg);

export type DialectKind = 'sqlite' | 'postgres';

export interface DialectSetup {
  kind: DialectKind;
  dialect: Dialect;
  /** PostgreSQL's connection pool (its counts are reported in the site's metrics). */
  pool?: { readonly totalCount: number; readonly idleCount: number; readonly waitingCount: number };
}

export interface DialectOptions {
  /** PostgreSQL only: the most connections this process opens. */
  poolMax?: number;
  /**
   * SQLite only: keep statement journals (and temporary tables) in memory. For the writer
   * thread's connection, whose statements are small batches (see SqliteThread).
   */
  journalsInMemory?: boolean;
  /**
   * SQLite only: the connection's page cache, in KiB (better-sqlite3 builds SQLite with 16 MB a
   * connection). Its sorts use as much memory again before they spill to temporary files.
   */
  cacheKb?: number;
}

/** How long a statement may wait for another connection's write lock before it fails. */
const LOCK_WAIT_MS = 5000;

/** Builds the Kysely dialect for a database location, applying the pragmas and type parsers we rely on. */
export function createDialect(location: DatabaseLocation, options: DialectOptions = {}): DialectSetup {
  if (location.kind === 'sqlite') {
    if (location.path !== ':memory:') mkdirSync(dirname(location.path), { recursive: true });
    const database = new BetterSqlite3(location.path);
    // WAL lets readers run beside the writer; FULL makes every acknowledged commit durable.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL');
    database.pragma('foreign_keys = ON');
    // A statement that writes several rows inside a transaction keeps the pages it changes in a
    // statement journal, to undo just that statement if it fails; past 64 KiB SQLite spills it
    // to a new temporary file. A signing batch of 23 rows changes ~30 pages (its email keys land
    // on different index pages): ~80 writes to a temporary file a batch, more than its WAL
    // frames, and a third of the writer's CPU. Only where every statement is a small batch: a
    // connection that sorts or groups a whole petition would hold its temporary b-trees in memory.
    if (options.journalsInMemory) database.pragma('temp_store = MEMORY');
    if (options.cacheKb) database.pragma(`cache_size = -${Math.round(options.cacheKb)}`);
    // Another connection (the writer thread, the CLI, a separate worker) may hold the write lock
    // briefly; set-up waits for it as any statement would.
    database.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
    // From here on a statement that meets the lock is retried on timers (withAsyncLockWait).
    database.pragma('busy_timeout = 0');
    return { kind: 'sqlite', dialect: withAsyncLockWait(new SqliteDialect({ database: withStatementCache(database) })) };
  }
  const pg = loadPg();
  const Cursor = require('pg-cursor') as typeof import('pg-cursor');
  const pool = new pg.Pool({
    connectionString: location.url,
    max: options.poolMax ?? 10,
    types: { getTypeParser: pgTypeParser as Pg['types']['getTypeParser'] },
  });
  // A connection the server dropped (restart, failover, an administrator) must not crash the
  // process. An idle one is reported on the pool, which discards it; one in use, between two
  // statements of a transaction, is reported on the connection itself, which the pool stops
  // listening to while it is lent out (an unhandled 'error' event: the process died). Its
  // transaction's next statement fails instead, the pool discards it on release, and the next
  // query opens a new one.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  // The cursor lets exports stream a million signatures without holding them in memory.
  return { kind: 'postgres', dialect: new PostgresDialect({ pool, cursor: Cursor }), pool };
}

/**
 * A SQLite dialect whose statements, refused with SQLITE_BUSY because another connection holds
 * the write lock, are tried again every millisecond on a timer (for up to LOCK_WAIT_MS) instead
 * of SQLite's busy handler sleeping the thread: with the writer thread committing
 * signatures, the web thread's job worker would otherwise stop every request each time it queued
 * behind a commit (signing with the worker in-process ran a third slower), and the writer thread,
 * sleeping in growing steps (and at first retrying in growing steps here too), kept missing the
 * moments the lock was free: with an email backlog, signing p99 140 ms, against 40 ms now. Retrying is safe: a
 * refused statement did nothing, and every transaction takes the lock at its BEGIN (see
 * withStatementCache), so only a BEGIN or a statement outside a transaction can be refused.
 */
function withAsyncLockWait(dialect: SqliteDialect): Dialect {
  const createDriver = dialect.createDriver.bind(dialect);
  dialect.createDriver = () => {
    const driver = createDriver();
    const acquireConnection = driver.acquireConnection.bind(driver);
    driver.acquireConnection = async () => {
      const connection = await acquireConnection();
      return {
        executeQuery: async (query) => {
          for (const started = Date.now(); ; ) {
            try {
              return await connection.executeQuery(query);
            } catch (err) {
              const code = (err as { code?: string }).code;
              if ((code !== 'SQLITE_BUSY' && code !== 'SQLITE_BUSY_RECOVERY') || Date.now() - started >= LOCK_WAIT_MS) throw err;
              await new Promise((resolve) => setTimeout(resolve, 1));
            }
          }
        },
        streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
      } satisfies DatabaseConnection;
    };
    return driver;
  };
  return dialect;
}

/**
 * Kysely prepares every statement afresh; on the hot paths the same SQL text comes back again
 * and again, so keep prepared statements by their text (better-sqlite3 statements are reusable;
 * Kysely uses one connection at a time, so a statement is never run twice at once).
 */
function withStatementCache(database: BetterSqlite3.Database) {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (!statement) {
        // Transactions take the write lock when they begin, not at their first write: with a
        // second writer (the writer thread, the CLI) a deferred transaction that read before
        // writing would fail with SQLITE_BUSY_SNAPSHOT, which no busy timeout can wait out.
        statement = database.prepare(sql === 'begin' ? 'begin immediate' : sql);
        // Statements with IN lists of many lengths would grow the cache without end.
        if (statements.size < 2000) statements.set(sql, statement);
      }
      return statement;
    },
    close() {
      statements.clear();
      database.close();
    },
  };
}

const PG_INT8 = 20;
const PG_NUMERIC = 1700;
const PG_TIMESTAMPTZ = 1184;

/** Returns the same JavaScript shapes SQLite gives: numbers for bigint ids and sums, ISO strings for times. */
function pgTypeParser(oid: number, format?: 'text' | 'binary') {
  const { types } = loadPg();
  if (format === 'binary') return types.getTypeParser(oid, 'binary');
  if (oid === PG_INT8 || oid === PG_NUMERIC) return (v: string) => Number(v);
  if (oid === PG_TIMESTAMPTZ) return (v: string) => new Date(v).toISOString();
  return types.getTypeParser(oid, 'text');
}

/** Which database a Kysely instance talks to (migrations receive only the instance). */
export function dialectOf(db: Kysely<any>): DialectKind {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Column types for portable migrations. */
export function columnTypes(kind: DialectKind) {
  const postgres = kind === 'postgres';
  return {
    /** Primary key that is never reused. */
    id: (col: ColumnDefinitionBuilder) =>
      postgres ? col.primaryKey().generatedByDefaultAsIdentity() : col.primaryKey().autoIncrement(),
    idType: (postgres ? 'bigint' : 'integer') as ColumnDataType,
    /** A column that references an `id`. */
    refType: (postgres ? 'bigint' : 'integer') as ColumnDataType,
    timestamp: (postgres ? 'timestamptz' : 'text') as ColumnDataType,
    flag: (postgres ? 'smallint' : 'integer') as ColumnDataType,
    binary: (postgres ? 'bytea' : 'blob') as ColumnDataType,
  };
}

/** A signature's times, as the application reads them (ISO strings). */
export type SignatureTimeColumn = 'created_at' | 'confirmed_at' | 'confirmation_requested_at';

const STORED_SIGNATURE_TIME: Record<SignatureTimeColumn, 'created_ms' | 'confirmed_ms' | 'confirmation_requested_ms'> = {
  created_at: 'created_ms',
  confirmed_at: 'confirmed_ms',
  confirmation_requested_at: 'confirmation_requested_ms',
};

/**
 * The column that stores a signature time, for writes and for indexed ranges and orderings.
 * PostgreSQL: the timestamptz column itself. SQLite: an integer of milliseconds (6 bytes instead
 * of a 24-character string, in the row and in each index on it; migration 0012), read back
 * through a virtual ISO column of the application's name, so reads and comparisons with ISO
 * strings are unchanged, but an index is used only through the stored column.
 */
export function signatureTimeColumn(kind: DialectKind, column: SignatureTimeColumn): string {
  return kind === 'sqlite' ? STORED_SIGNATURE_TIME[column] : column;
}

/**
 * A signer's IP address as the signatures table keeps it. SQLite: an IPv4 address as its four
 * bytes (a BLOB: 5 bytes a signature instead of 13 as text, 80 MB for a petition of ten million
 * signed within the fraud-review period); an IPv6 address, and addresses stored before, as text
 * (SQLite keeps each value's own type). PostgreSQL: text. Read it back with `ipFromStored`.
 */
export function storedIp(kind: DialectKind, ip: string | null): string | Uint8Array | null {
  if (ip === null || kind === 'postgres' || !isIPv4(ip)) return ip;
  return Uint8Array.from(ip.split('.'), Number);
}

/** An IP address as read from the signatures table, as text (see storedIp). */
export function ipFromStored(value: string | Uint8Array | null | undefined): string | null {
  if (value === null || value === undefined || typeof value === 'string') return value ?? null;
  return Array.from(value).join('.');
}

/** An ISO time as the stored signature-time columns hold it (see signatureTimeColumn). */
export function storedSignatureTime(kind: DialectKind, iso: string): string | number;
export function storedSignatureTime(kind: DialectKind, iso: string | null): string | number | null;
export function storedSignatureTime(kind: DialectKind, iso: string | null): string | number | null {
  if (iso === null || kind === 'postgres') return iso;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new TypeError(`not a time: ${iso}`);
  return ms;
}

/** A signature time compared with an ISO time, in the form that can use an index on it (see signatureTimeColumn). */
export function signatureTimeIs(kind: DialectKind, column: SignatureTimeColumn, op: '<' | '<=' | '>' | '>=', iso: string): RawBuilder<boolean> {
  return sql<boolean>`${sql.ref(`signatures.${signatureTimeColumn(kind, column)}`)} ${sql.raw(op)} ${storedSignatureTime(kind, iso)}`;
}

/**
 * Signature times to write (insert values or update set), under the columns that store them on
 * this database (see signatureTimeColumn): `{ created_at: iso }` becomes `{ created_ms: 1764… }`
 * on SQLite.
 */
export function storedSignatureTimes(kind: DialectKind, times: Partial<Record<SignatureTimeColumn, string | null>>): Record<string, string | number | null> {
  const stored: Record<string, string | number | null> = {};
  for (const [column, iso] of Object.entries(times) as [SignatureTimeColumn, string | null | undefined][]) {
    if (iso !== undefined) stored[signatureTimeColumn(kind, column)] = storedSignatureTime(kind, iso);
  }
  return stored;
}

const SIGNATURE_STATUS_CODES: Record<SignatureStatus, number> = { pending: 0, confirmed: 1, invalidated: 2 };

/**
 * A signature status to write (insert values or update set). PostgreSQL: `{ status }`. SQLite:
 * `{ status_code }`, the small integer behind its virtual `status` column (migration 0017), which
 * reads and compares as the word.
 */
export function storedSignatureStatus(kind: DialectKind, status: SignatureStatus): { status: SignatureStatus } | { status_code: number } {
  return kind === 'sqlite' ? { status_code: SIGNATURE_STATUS_CODES[status] } : { status };
}

/** The status to write back when an invalidation is reverted: confirmed if the signature had been confirmed, else pending. */
export function statusBeforeInvalidation(kind: DialectKind): { status: RawBuilder<SignatureStatus> } | { status_code: RawBuilder<number> } {
  return kind === 'sqlite'
    ? { status_code: sql<number>`case when confirmed_ms is null then 0 else 1 end` }
    : { status: sql<SignatureStatus>`case when confirmed_at is null then 'pending' else 'confirmed' end` };
}

/** The UTC calendar day ("2026-11-16") of a timestamp column, as SQL for this database. */
export function utcDay(kind: DialectKind, column: string): RawBuilder<string> {
  return kind === 'postgres'
    ? sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD')`
    : sql<string>`substr(${sql.ref(column)}, 1, 10)`;
}

/** The UTC hour ("2026-11-16T14") of a timestamp column, as SQL for this database. */
export function utcHour(kind: DialectKind, column: string): RawBuilder<string> {
  return kind === 'postgres'
    ? sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24')`
    : sql<string>`substr(${sql.ref(column)}, 1, 13)`;
}

/**
 * The district ("SW1A") of a stored UK postcode: the part before the space of a full postcode,
 * or the whole of one already cut down to its district (after the retention period).
 */
export function postcodeDistrict(kind: DialectKind, column: string): RawBuilder<string> {
  return kind === 'postgres'
    ? sql<string>`split_part(${sql.ref(column)}, ' ', 1)`
    : sql<string>`case when instr(${sql.ref(column)}, ' ') > 0 then substr(${sql.ref(column)}, 1, instr(${sql.ref(column)}, ' ') - 1) else ${sql.ref(column)} end`;
}

/** The part of an email address after the "@", as SQL for this database. */
export function emailDomain(kind: DialectKind, column: string): RawBuilder<string> {
  return kind === 'postgres'
    ? sql<string>`split_part(${sql.ref(column)}, '@', 2)`
    : sql<string>`substr(${sql.ref(column)}, instr(${sql.ref(column)}, '@') + 1)`;
}

/**
 * The lower-cased domain of a signer's address: from the address while it is kept, from
 * `email_domain` once it is erased (migration 0015: the domain is not stored twice).
 */
export function signatureEmailDomain(kind: DialectKind): RawBuilder<string> {
  return sql<string>`coalesce(signatures.email_domain, nullif(lower(${emailDomain(kind, 'signatures.email')}), ''))`;
}

/**
 * Which period of `periodMs` milliseconds since 1970 a signature time falls in, as an integer
 * (`bucket * periodMs` is the period's start): for counting by minute or by ten minutes. An
 * integer division on SQLite's stored milliseconds, where formatting a time for each of a
 * million rows took most of a grouping's second.
 */
export function signatureTimeBucket(kind: DialectKind, column: SignatureTimeColumn, periodMs: number): RawBuilder<number> {
  if (!Number.isInteger(periodMs) || periodMs <= 0) throw new RangeError(`not a period: ${periodMs}`);
  return kind === 'postgres'
    ? sql<number>`floor(extract(epoch from ${sql.ref(`signatures.${column}`)}) * 1000 / ${sql.lit(periodMs)})::bigint`
    : sql<number>`(${sql.ref(`signatures.${STORED_SIGNATURE_TIME[column]}`)} / ${sql.lit(periodMs)})`;
}

/** A signature time as read from its stored column (see signatureTimeColumn), as an ISO string. */
export function isoFromStoredSignatureTime(value: string | number): string {
  return typeof value === 'number' ? new Date(value).toISOString() : value;
}

/**
 * Holds every writer (and every `for update` claim) of a table off until the transaction ends;
 * plain reads go on. PostgreSQL only: SQLite's single writer already excludes them. Lets a
 * rebuild read rows and clear a queue as one step.
 */
export async function lockAgainstWriters(kind: DialectKind, trx: Kysely<any>, table: string): Promise<void> {
  if (kind === 'postgres') await sql`lock table ${sql.table(table)} in exclusive mode`.execute(trx);
}

/**
 * True when the database refused a value itself (PostgreSQL's class 22 "data exception": bad
 * encoding, out-of-range number…): the request's fault, not the server's.
 */
export function isBadDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}

/**
 * True when an error says the database could not be reached or used just now, rather than that
 * the request was wrong: PostgreSQL restarting, failing over or refusing connections (SQLSTATE
 * class 08, 57P01–57P03, 53300), a dropped or refused connection, the pool timing out, or a
 * SQLite lock still held when the wait for it ran out. Such a request gets 503 with Retry-After.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | null | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (/^08[0-9A-Z]{3}$/.test(code) || ['57P01', '57P02', '57P03', '53300'].includes(code)) return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED'].includes(code)) return true;
    // pg reports a dropped connection and a pool that could not connect in time by message only.
    if (typeof e.message === 'string' && /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/.test(e.message)) return true;
  }
  return false;
}

/** True when an error is a unique-constraint violation, on either database. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * How many counter rows a petition's count is spread over. SQLite has a single writer, so one
 * row is best; PostgreSQL spreads concurrent confirmations over several rows to avoid lock queues.
 */
export function counterShards(kind: DialectKind): number {
  return kind === 'postgres' ? 16 : 1;
}

/**
 * How many group-commit batches of one kind (signatures, confirmations) a process commits at
 * once (see GroupCommit). SQLite: one, it has a single writer. PostgreSQL: three, so that while
 * one batch waits for its commit the next is being written; six connections at most of the pool
 * (DATABASE_POOL_MAX, default 10) for both kinds together.
 */
export function batchConcurrency(kind: DialectKind): number {
  return kind === 'postgres' ? 3 : 1;
}

/**
 * Splits rows for multi-row statements. PostgreSQL: chunks of `max`, the fewest round trips.
 * SQLite: chunks whose sizes are powers of two (at most 128), so that the prepared-statement
 * cache holds a handful of statements per table instead of one per batch size (a 200-row insert
 * statement is a large program: a hundred of them took megabytes beside each connection).
 */
export function rowChunks<Row>(kind: DialectKind, rows: Row[], max: number): Row[][] {
  const chunks: Row[][] = [];
  for (let i = 0; i < rows.length; ) {
    let size = Math.min(max, rows.length - i);
    if (kind === 'sqlite') size = 2 ** Math.floor(Math.log2(Math.min(size, 128)));
    chunks.push(rows.slice(i, i + size));
    i += size;
  }
  return chunks;
}
