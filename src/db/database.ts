import { Kysely, Migrator, type Migration, type MigrationResultSet } from 'kysely';
import type { DatabaseLocation } from '../config.ts';
import { createDialect, type DialectKind, type DialectOptions } from './dialect.ts';
import { migrations } from './migrations/index.ts';
import type { Database } from './schema.ts';

export interface Db {
  kysely: Kysely<Database>;
  kind: DialectKind;
}

/** Opens a connection (pool) to the configured database. Call `db.kysely.destroy()` to close it. */
export function openDatabase(location: DatabaseLocation, options: DialectOptions = {}): Db {
  const { kind, dialect } = createDialect(location, options);
  return { kysely: new Kysely<Database>({ dialect }), kind };
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
