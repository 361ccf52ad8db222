import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.ts';

/**
 * SQLite keeps a signature's status as a small integer (`status_code`: 0 pending, 1 confirmed,
 * 2 invalidated), which its record format stores in no bytes at all for 0 and 1, instead of the
 * word ("confirmed", 10 bytes in every row). `status` stays, as a virtual column computed from the
 * code, so every query and partial index reads and compares it as before; writes name the code
 * through `storedSignatureStatus` (dialect.ts). PostgreSQL is unchanged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) !== 'sqlite') return;
  const indexes = await indexesOnStatus(db);
  for (const index of indexes) await sql`drop index ${sql.ref(index.name)}`.execute(db);
  // 0 (pending) is the default: a new signature is pending until confirmed.
  await sql`alter table signatures add column status_code integer not null default 0`.execute(db);
  await sql`update signatures set status_code = case status when 'confirmed' then 1 when 'invalidated' then 2 else 0 end where status <> 'pending'`.execute(db);
  await sql`alter table signatures drop column status`.execute(db);
  await sql
    .raw(`alter table signatures add column status text generated always as (case status_code when 0 then 'pending' when 1 then 'confirmed' when 2 then 'invalidated' end) virtual`)
    .execute(db);
  for (const index of indexes) await sql.raw(index.sql).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) !== 'sqlite') return;
  const indexes = await indexesOnStatus(db);
  for (const index of indexes) await sql`drop index ${sql.ref(index.name)}`.execute(db);
  await sql`alter table signatures drop column status`.execute(db);
  await sql`alter table signatures add column status text not null default 'pending'`.execute(db);
  await sql`update signatures set status = case status_code when 1 then 'confirmed' when 2 then 'invalidated' else 'pending' end where status_code <> 0`.execute(db);
  await sql`alter table signatures drop column status_code`.execute(db);
  for (const index of indexes) await sql.raw(index.sql).execute(db);
}

/** The indexes on signatures that mention the status (partial indexes on confirmed signatures). */
async function indexesOnStatus(db: Kysely<any>): Promise<{ name: string; sql: string }[]> {
  const rows = await sql<{ name: string; sql: string }>`select name, sql from sqlite_master where type = 'index' and tbl_name = 'signatures' and sql like '%status%'`.execute(db);
  return rows.rows;
}
