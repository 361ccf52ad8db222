import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../dialect.ts';

/**
 * A smaller signature row, toward ten million signatures in 2 GB (it took 479 bytes a signature on
 * SQLite, 518 on PostgreSQL; see docs/performance.md).
 *
 * - SQLite keeps a signature's three times as integers of milliseconds (`created_ms`,
 *   `confirmed_ms`, `confirmation_requested_ms`: 6 bytes each instead of a 24-character string,
 *   in the row and again in each index on them). `created_at`, `confirmed_at` and
 *   `confirmation_requested_at` stay as VIRTUAL generated columns giving the same ISO strings, so
 *   reads, exports and comparisons are unchanged; writes and indexes use the integers
 *   (`storedSignatureTimes` in dialect.ts). PostgreSQL's timestamptz already takes 8 bytes.
 * - The keyed IP hash is cut to 11 characters (66 bits: two addresses in one petition's ten
 *   million colliding has odds of about one in a million, and would only merge two groups in the
 *   fraud review). A prefix of the old hash, so groups stay together.
 * - The index by email domain goes: the fraud review groups a petition's signatures by domain
 *   with a scan either way, and a drill-down by domain reads the petition's rows.
 * - The index for confirmed signatures in confirmation order covers only confirmed ones (most
 *   rows of a big petition are, but pending and invalidated ones no longer take space), without
 *   the status in every entry; queries state its condition literally (`confirmedOnly`).
 *
 * SQLite cannot change a column's type, so its table is rebuilt (nothing references signatures).
 */
export async function up(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await sql`update signatures set ip_hash = substr(ip_hash, 1, 11) where length(ip_hash) > 11`.execute(db);
    await db.schema.dropIndex('signatures_petition_domain').execute();
    await db.schema.dropIndex('signatures_petition_confirmed').execute();
    await db.schema.createIndex('signatures_petition_confirmed').on('signatures').columns(['petition_id', 'confirmed_at']).where(sql.ref('status'), '=', sql.lit('confirmed')).execute();
    return;
  }
  await rebuildSqlite(db, 'compact');
}

export async function down(db: Kysely<any>): Promise<void> {
  // The IP hashes stay short: their first 11 characters are all that is left of them.
  if (dialectOf(db) === 'postgres') {
    await db.schema.dropIndex('signatures_petition_confirmed').execute();
    await db.schema.createIndex('signatures_petition_confirmed').on('signatures').columns(['petition_id', 'status', 'confirmed_at']).execute();
    await db.schema.createIndex('signatures_petition_domain').on('signatures').columns(['petition_id', 'email_domain']).execute();
    return;
  }
  await rebuildSqlite(db, 'text');
}

/** ISO text of a millisecond column, exactly as Date#toISOString writes it. */
const iso = (column: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${column} / 1000.0, 'unixepoch')`;
/** Milliseconds of a stored time (any form SQLite reads; ISO strings with or without fractions). */
const ms = (column: string) => `cast(round((julianday(${column}) - 2440587.5) * 86400000) as integer)`;

const SHARED = [
  'id',
  'petition_id',
  'name',
  'email',
  'email_key',
  'postcode',
  'country',
  'public_name',
  'contact_opt_in',
  'status',
  'unsubscribed_at',
  'constituency',
  'local_authority',
  'ward',
  'region',
  'ip',
  'email_domain',
  'invalidation_id',
  'language',
  'consent_wording_id',
];

async function rebuildSqlite(db: Kysely<any>, to: 'compact' | 'text'): Promise<void> {
  const compact = to === 'compact';
  const times = compact
    ? `"created_ms" integer not null, "confirmed_ms" integer, "confirmation_requested_ms" integer,
       "created_at" text generated always as (${iso('created_ms')}) virtual,
       "confirmed_at" text generated always as (${iso('confirmed_ms')}) virtual,
       "confirmation_requested_at" text generated always as (${iso('confirmation_requested_ms')}) virtual`
    : `"created_at" text not null, "confirmed_at" text, "confirmation_requested_at" text not null`;
  for (const index of ['signatures_petition_confirmed', 'signatures_petition_ip', 'signatures_petition_domain', 'signatures_petition_created', 'signatures_ip_kept', 'signatures_invalidation', 'signatures_contactable']) {
    await sql.raw(`drop index if exists "${index}"`).execute(db);
  }
  await sql
    .raw(
      `create table "signatures_rebuilt" ("id" integer primary key autoincrement, "petition_id" integer not null references "petitions" ("id") on delete cascade,
        "name" text not null, "email" text not null, "email_key" text not null, "postcode" text, "country" text not null,
        "public_name" integer default 0 not null, "contact_opt_in" integer default 0 not null, "status" text not null,
        "unsubscribed_at" text, "constituency" text, "local_authority" text, "ward" text, "region" text,
        "ip" text, "ip_hash" text, "email_domain" text, "invalidation_id" integer, "language" text default 'en' not null,
        "consent_wording_id" integer references "consent_wordings" ("id"),
        ${times},
        constraint "signatures_one_per_email" unique ("petition_id", "email_key"))`,
    )
    .execute(db);
  const columns = SHARED.map((c) => `"${c}"`).join(', ');
  const timeColumns = compact ? '"created_ms", "confirmed_ms", "confirmation_requested_ms"' : '"created_at", "confirmed_at", "confirmation_requested_at"';
  const timeValues = compact ? `${ms('created_at')}, ${ms('confirmed_at')}, ${ms('confirmation_requested_at')}` : `${iso('created_ms')}, ${iso('confirmed_ms')}, ${iso('confirmation_requested_ms')}`;
  await sql.raw(`insert into "signatures_rebuilt" (${columns}, "ip_hash", ${timeColumns}) select ${columns}, substr("ip_hash", 1, 11), ${timeValues} from "signatures" order by "id"`).execute(db);
  // Ids are never reused: the new table carries on from the old one's highest ever given.
  const sequence = await sql<{ seq: number }>`select seq from sqlite_sequence where name = 'signatures'`.execute(db);
  await sql`drop table "signatures"`.execute(db);
  await sql`alter table "signatures_rebuilt" rename to "signatures"`.execute(db);
  if (sequence.rows[0]) await sql`update sqlite_sequence set seq = max(seq, ${sequence.rows[0].seq}) where name = 'signatures'`.execute(db);

  const created = compact ? 'created_ms' : 'created_at';
  const confirmed = compact ? 'confirmed_ms' : 'confirmed_at';
  if (compact) {
    await sql.raw(`create index "signatures_petition_confirmed" on "signatures" ("petition_id", "${confirmed}") where "status" = 'confirmed'`).execute(db);
  } else {
    await sql.raw(`create index "signatures_petition_confirmed" on "signatures" ("petition_id", "status", "confirmed_at")`).execute(db);
    await sql.raw(`create index "signatures_petition_domain" on "signatures" ("petition_id", "email_domain")`).execute(db);
  }
  await sql.raw(`create index "signatures_petition_ip" on "signatures" ("petition_id", "ip_hash")`).execute(db);
  await sql.raw(`create index "signatures_petition_created" on "signatures" ("petition_id", "${created}")`).execute(db);
  await sql.raw(`create index "signatures_ip_kept" on "signatures" ("${created}") where "ip" is not null`).execute(db);
  await sql.raw(`create index "signatures_invalidation" on "signatures" ("invalidation_id") where "invalidation_id" is not null`).execute(db);
  await sql.raw(`create index "signatures_contactable" on "signatures" ("petition_id", "id") where "contact_opt_in" = 1 and "status" = 'confirmed'`).execute(db);
}
