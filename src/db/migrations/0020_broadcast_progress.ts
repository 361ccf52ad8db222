import { sql, type Kysely } from 'kysely';
import { columnTypes, dialectOf } from '../dialect.ts';

/**
 * A broadcast keeps its progress in its own row, so that sending to millions stays linear:
 * - `progress_id`: every recipient up to this signature id has been dealt with. The next batch
 *   reads on from it; it used to start from the first signer and skip, for every batch, all those
 *   already sent (a quarter of a second a batch after a million on SQLite, seconds on
 *   PostgreSQL: days for ten million).
 * - `sent_count`: how many were sent, instead of counting delivery rows on every page showing it.
 * A broadcast's per-recipient delivery rows (what makes each email go out once) are deleted once
 * it has finished; those of broadcasts already finished go now.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const t = columnTypes(dialectOf(db));
  await db.schema.alterTable('broadcasts').addColumn('progress_id', t.refType, (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('broadcasts').addColumn('sent_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await sql`update broadcasts set sent_count = (select count(*) from broadcast_deliveries d where d.broadcast_id = broadcasts.id and d.state = 'sent')`.execute(db);
  await sql`delete from broadcast_deliveries where broadcast_id in (select id from broadcasts where finished_at is not null)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // The deleted delivery rows are not restored: their broadcasts had finished.
  await db.schema.alterTable('broadcasts').dropColumn('sent_count').execute();
  await db.schema.alterTable('broadcasts').dropColumn('progress_id').execute();
}
