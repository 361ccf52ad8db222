import { Kysely, Migrator, type Migration, type MigrationResultSet } from 'kysely';
import type { DatabaseLocation } from '../config.ts';
import { createDialect, type DialectKind, type DialectOptions } from './dialect.ts';
import { migrations } from './migrations/index.ts';
import type { Database } from './schema.ts';
import { SqliteWriterThread } from './writer-thread.ts';

export interface Db {
  kysely: Kysely<Database>;
  kind: DialectKind;
  /**
   * SQLite on a file: the thread that commits signing and confirming batches on a connection of
   * its own (see writer-thread.ts), started on first use. Null for PostgreSQL and in-memory SQLite.
   */
  writer: SqliteWriterThread | null;
}

/** Opens a connection (pool) to the configured database. Close it with `closeDatabase`. */
export function openDatabase(location: DatabaseLocation, options: DialectOptions & { writerThread?: boolean } = {}): Db {
  const { kind, dialect } = createDialect(location, options);
  const writer = options.writerThread !== false && location.kind === 'sqlite' && location.path !== ':memory:' ? new SqliteWriterThread(location.path) : null;
  return { kysely: new Kysely<Database>({ dialect }), kind, writer };
}

/** Closes the database: the writer thread once its batches are answered, then the connections. */
export async function closeDatabase(db: Db): Promise<void> {
  await db.writer?.close();
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
