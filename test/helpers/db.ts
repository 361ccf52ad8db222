import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'node:test';
import pg from 'pg';
import type { DatabaseLocation } from '../../src/config.ts';
import { closeDatabase, migrateToLatest, openDatabase, type Db } from '../../src/db/database.ts';

export type DatabaseKind = 'sqlite' | 'postgres';

/** A migrated, empty database of one kind, private to the test that opened it. */
export interface TestDatabase {
  kind: DatabaseKind;
  db: Db;
  location: DatabaseLocation;
  /** Drops everything the database holds and closes it. */
  cleanup(): Promise<void>;
}

export const POSTGRES_URL = process.env.TEST_DATABASE_URL;
export const POSTGRES_SKIP_REASON = 'TEST_DATABASE_URL is not set: PostgreSQL tests skipped (CI sets it)';

/** Opens a fresh database: a temporary SQLite file, or a new database on the TEST_DATABASE_URL server. */
export async function openTestDatabase(kind: DatabaseKind, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const { location, dispose } = await createEmptyDatabase(kind);
  const db = openDatabase(location, { poolMax: 20 });
  if (options.migrate !== false) await migrateToLatest(db);
  return {
    kind,
    db,
    location,
    async cleanup() {
      await closeDatabase(db).catch(() => {});
      await dispose();
    },
  };
}

/** Where a fresh test database lives, and how to remove it afterwards. */
async function createEmptyDatabase(kind: DatabaseKind): Promise<{ location: DatabaseLocation; dispose: () => Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'undersign-test-'));
    return {
      location: { kind: 'sqlite', path: join(dir, 'test.sqlite') },
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (!POSTGRES_URL) throw new Error(POSTGRES_SKIP_REASON);
  // A database of its own (not a schema): test files run in parallel, and Kysely's migrator
  // inspects every schema of the database it is in.
  const name = `undersign_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    location: { kind: 'postgres', url: url.toString() },
    dispose: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Declares a suite once per database: always SQLite, and PostgreSQL when TEST_DATABASE_URL is
 * set (otherwise the PostgreSQL suite is reported as skipped, with the reason).
 */
export function describeEachDatabase(title: string, fn: (kind: DatabaseKind) => void): void {
  describe(`${title} [sqlite]`, () => fn('sqlite'));
  if (POSTGRES_URL) describe(`${title} [postgres]`, () => fn('postgres'));
  else describe(`${title} [postgres]`, { skip: POSTGRES_SKIP_REASON }, () => {});
}
